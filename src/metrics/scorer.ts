/**
 * Caption scores as the COCO caption toolkit reports them, each labelled with its protocol.
 *
 * `scoreCaptions(references, hypotheses, options)` tokenizes both sides as the toolkit
 * does (tokenizer.ts: all references in one batch, all hypotheses in another, in image
 * order), then computes BLEU-1..4, ROUGE-L and CIDEr-D (corpus and per image), and METEOR
 * and SPICE when their jars are configured (java.ts), otherwise marks them unavailable.
 *
 * Images are scored in the order of the `references` map. Integer sums (BLEU) do not
 * depend on it, but the means of ROUGE-L and CIDEr-D do in their last bit: to match the
 * toolkit exactly, insert images in the annotation file's order (coco-files.ts does).
 *
 * Values are on a 0-1 scale except CIDEr-D, on the toolkit's (x10, e.g. 1.13); papers
 * usually print all of them x100.
 *
 * @example
 *   const refs = new Map([[1, ['A dog runs.', 'A brown dog running.']]]);
 *   const hyps = new Map([[1, 'a dog running']]);
 *   const { metrics } = await scoreCaptions(refs, hyps, { split: 'test', protocol: 'free-running', beam: 3 });
 *   // metrics[3]: { name: 'BLEU-4', value: 0.0000…, implementation: 'coco-caption', split: 'test', … }
 */
import { bleuFromNgrams } from './bleu';
import { ciderFromNgrams } from './cider';
import { resolveJar, resolveSpiceCache, type JavaOptions } from './java';
import { meteorCommand, runMeteor } from './meteor';
import { NgramIndex, pySplit } from './ngrams';
import { rougeLOfImage, WordIds } from './rouge';
import { runSpice } from './spice';
import { numpyMean } from './exact-math';
import { tokenizeCaptions } from './tokenizer';

export type ImageId = number | string;

/** How the captions were produced. */
export const PROTOCOLS = ['free-running', 'teacher-forced'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** The metrics one can ask for (BLEU gives BLEU-1..4). */
export const METRIC_FAMILIES = ['BLEU', 'METEOR', 'ROUGE-L', 'CIDEr-D', 'SPICE'] as const;
export type MetricFamily = (typeof METRIC_FAMILIES)[number];

export type MetricName = 'BLEU-1' | 'BLEU-2' | 'BLEU-3' | 'BLEU-4' | 'METEOR' | 'ROUGE-L' | 'CIDEr-D' | 'SPICE';

/** Every score we compute follows the COCO caption toolkit. */
export const IMPLEMENTATION = 'coco-caption';

/** Where a score comes from: recorded with every value (DESIGN.md, summary.json). */
export interface MetricProtocol {
  split?: string;
  protocol?: Protocol;
  beam?: number;
}

/** Set when only part of an annotation set was scored (coco-files.ts, `allowSubset`). */
export interface SubsetInfo {
  evaluated: number;
  of: number;
}

export interface MetricScore extends MetricProtocol {
  name: MetricName;
  value: number;
  implementation: typeof IMPLEMENTATION;
  subset?: SubsetInfo;
}

/** A metric that could not be computed here, and why (never a made-up value). */
export interface UnavailableMetric extends MetricProtocol {
  name: 'METEOR' | 'SPICE';
  available: false;
  reason: string;
  implementation: typeof IMPLEMENTATION;
}

export type MetricEntry = MetricScore | UnavailableMetric;

export function isMetricScore(entry: MetricEntry): entry is MetricScore {
  return !('available' in entry);
}

export interface ImageScores {
  imageId: ImageId;
  scores: Partial<Record<MetricName, number>>;
}

export interface CaptionScores {
  /** Corpus scores, in the order BLEU-1..4, METEOR, ROUGE-L, CIDEr-D, SPICE. */
  metrics: MetricEntry[];
  /** Per-image scores in image order (BLEU per image as the toolkit computes it). */
  perImage: ImageScores[];
  /** Number of images scored. */
  images: number;
  subset?: SubsetInfo;
}

export interface ScoreOptions extends MetricProtocol {
  /** Which metrics (default: all five; METEOR and SPICE only where their jars are set). */
  metrics?: readonly MetricFamily[];
  /** Java and jar paths for METEOR and SPICE (default: the environment variables). */
  java?: JavaOptions;
  /** Recorded on every score when part of a set was scored. */
  subset?: SubsetInfo;
}

interface Prepared {
  ids: ImageId[];
  references: string[][];
  hypotheses: string[];
  families: Set<MetricFamily>;
  protocol: MetricProtocol;
}

/** Up to `max` ids for an error message, with the total when there are more. */
export function listIds(ids: readonly ImageId[], max = 10): string {
  const shown = ids.slice(0, max).map((id) => JSON.stringify(id)).join(', ');
  return ids.length > max ? `${shown}, … (${ids.length} in all)` : shown;
}

function checkOptions(options: ScoreOptions): { families: Set<MetricFamily>; protocol: MetricProtocol } {
  const families = new Set<MetricFamily>(options.metrics ?? METRIC_FAMILIES);
  for (const m of families) {
    if (!(METRIC_FAMILIES as readonly string[]).includes(m)) {
      throw new Error(`unknown metric ${JSON.stringify(m)}; choose from ${METRIC_FAMILIES.join(', ')}`);
    }
  }
  if (options.protocol !== undefined && !(PROTOCOLS as readonly string[]).includes(options.protocol)) {
    throw new Error(`unknown protocol ${JSON.stringify(options.protocol)}; choose from ${PROTOCOLS.join(', ')}`);
  }
  if (options.beam !== undefined && !(Number.isInteger(options.beam) && options.beam >= 1)) {
    throw new Error(`beam must be a positive integer, got ${JSON.stringify(options.beam)}`);
  }
  if (options.split !== undefined && typeof options.split !== 'string') {
    throw new Error(`split must be a string, got ${JSON.stringify(options.split)}`);
  }
  const protocol: MetricProtocol = {};
  if (options.split !== undefined) protocol.split = options.split;
  if (options.protocol !== undefined) protocol.protocol = options.protocol;
  if (options.beam !== undefined) protocol.beam = options.beam;
  return { families, protocol };
}

/** Checks the inputs as the toolkit's assertions do, and tokenizes both sides. */
function prepare(
  references: ReadonlyMap<ImageId, readonly string[]>,
  hypotheses: ReadonlyMap<ImageId, string>,
  options: ScoreOptions,
): Prepared {
  const { families, protocol } = checkOptions(options);
  const ids = [...references.keys()];
  if (ids.length === 0) throw new Error('no images to score: the references map is empty');
  const noHypothesis = ids.filter((id) => !hypotheses.has(id));
  if (noHypothesis.length > 0) {
    throw new Error(`${noHypothesis.length} image(s) have references but no hypothesis: ${listIds(noHypothesis)}`);
  }
  const noReferences = [...hypotheses.keys()].filter((id) => !references.has(id));
  if (noReferences.length > 0) {
    throw new Error(`${noReferences.length} image(s) have a hypothesis but no references: ${listIds(noReferences)}`);
  }
  const flatRefs: string[] = [];
  const hypRaw: string[] = [];
  for (const id of ids) {
    const refs = references.get(id) as readonly string[];
    if (!Array.isArray(refs) || refs.length === 0) {
      throw new Error(`image ${JSON.stringify(id)}: needs at least one reference caption`);
    }
    refs.forEach((r, j) => {
      if (typeof r !== 'string') throw new Error(`image ${JSON.stringify(id)}: reference ${j} must be a string, got ${JSON.stringify(r)}`);
      flatRefs.push(r);
    });
    const h = hypotheses.get(id);
    if (typeof h !== 'string') throw new Error(`image ${JSON.stringify(id)}: hypothesis must be a string, got ${JSON.stringify(h)}`);
    hypRaw.push(h);
  }
  const refTokens = tokenizeCaptions(flatRefs);
  const hypTokens = tokenizeCaptions(hypRaw);
  let k = 0;
  const refsPerImage = ids.map((id) => (references.get(id) as readonly string[]).map(() => refTokens[k++]));
  return { ids, references: refsPerImage, hypotheses: hypTokens, families, protocol };
}

function score(name: MetricName, value: number, p: Prepared, subset?: SubsetInfo): MetricScore {
  const entry: MetricScore = { name, value, implementation: IMPLEMENTATION, ...p.protocol };
  if (subset) entry.subset = subset;
  return entry;
}

/**
 * BLEU-1..4, ROUGE-L and CIDEr-D, synchronously (no Java). `references` maps each image
 * to its raw reference captions, `hypotheses` to one raw generated caption.
 */
export function computeCaptionMetrics(
  references: ReadonlyMap<ImageId, readonly string[]>,
  hypotheses: ReadonlyMap<ImageId, string>,
  options: ScoreOptions = {},
): CaptionScores {
  return fromPrepared(prepare(references, hypotheses, options), options.subset);
}

function fromPrepared(p: Prepared, subset?: SubsetInfo): CaptionScores {
  const perImage: ImageScores[] = p.ids.map((imageId) => ({ imageId, scores: {} }));
  const metrics: MetricEntry[] = [];

  if (p.families.has('BLEU') || p.families.has('CIDEr-D')) {
    const index = new NgramIndex();
    const images = p.hypotheses.map((hyp, i) => ({
      hypothesis: index.encode(pySplit(hyp)),
      references: p.references[i].map((r) => index.encode(pySplit(r))),
    }));
    if (p.families.has('BLEU')) {
      const bleu = bleuFromNgrams(images, index.size);
      bleu.corpus.forEach((value, k) => {
        const name = `BLEU-${k + 1}` as MetricName;
        metrics.push(score(name, value, p, subset));
        bleu.perImage[k].forEach((v, i) => (perImage[i].scores[name] = v));
      });
    }
    if (p.families.has('ROUGE-L')) pushRouge(p, perImage, metrics, subset);
    if (p.families.has('CIDEr-D')) {
      const cider = ciderFromNgrams(images, index.size);
      metrics.push(score('CIDEr-D', cider.corpus, p, subset));
      cider.perImage.forEach((v, i) => (perImage[i].scores['CIDEr-D'] = v));
    }
  } else if (p.families.has('ROUGE-L')) {
    pushRouge(p, perImage, metrics, subset);
  }
  const result: CaptionScores = { metrics, perImage, images: p.ids.length };
  if (subset) result.subset = subset;
  return result;
}

function pushRouge(p: Prepared, perImage: ImageScores[], metrics: MetricEntry[], subset?: SubsetInfo): void {
  const words = new WordIds();
  const values = p.hypotheses.map((hyp, i) => rougeLOfImage(words.encode(hyp), p.references[i].map((r) => words.encode(r))));
  values.forEach((v, i) => (perImage[i].scores['ROUGE-L'] = v));
  metrics.push(score('ROUGE-L', numpyMean(values), p, subset));
}

function unavailable(name: 'METEOR' | 'SPICE', reason: string, p: Prepared): UnavailableMetric {
  return { name, available: false, reason, implementation: IMPLEMENTATION, ...p.protocol };
}

/**
 * All requested metrics: BLEU-1..4, ROUGE-L, CIDEr-D always; METEOR and SPICE through
 * their jars when configured (else an `available: false` entry with the reason; a jar
 * that fails is reported the same way, with its error).
 */
export async function scoreCaptions(
  references: ReadonlyMap<ImageId, readonly string[]>,
  hypotheses: ReadonlyMap<ImageId, string>,
  options: ScoreOptions = {},
): Promise<CaptionScores> {
  const p = prepare(references, hypotheses, options);
  const result = fromPrepared(p, options.subset);
  const extra: MetricEntry[] = [];

  if (p.families.has('METEOR')) {
    const jar = resolveJar('METEOR', options.java);
    if ('reason' in jar) {
      extra.push(unavailable('METEOR', jar.reason, p));
    } else {
      try {
        const m = await runMeteor(meteorCommand(jar.java, jar.jar), p.references, p.hypotheses);
        extra.push(score('METEOR', m.corpus, p, options.subset));
        m.perImage.forEach((v, i) => (result.perImage[i].scores.METEOR = v));
      } catch (err) {
        extra.push(unavailable('METEOR', `METEOR failed: ${(err as Error).message}`, p));
      }
    }
  }
  if (p.families.has('SPICE')) {
    const jar = resolveJar('SPICE', options.java);
    if ('reason' in jar) {
      extra.push(unavailable('SPICE', jar.reason, p));
    } else {
      try {
        const cache = resolveSpiceCache(options.java);
        const s = await runSpice(jar.java, jar.jar, p.ids, p.references, p.hypotheses, cache);
        extra.push(score('SPICE', s.corpus, p, options.subset));
        p.ids.forEach((id, i) => {
          const v = s.perImage.get(id);
          if (v !== undefined) result.perImage[i].scores.SPICE = v;
        });
      } catch (err) {
        extra.push(unavailable('SPICE', `SPICE failed: ${(err as Error).message}`, p));
      }
    }
  }
  result.metrics = orderMetrics([...result.metrics, ...extra]);
  return result;
}

const ORDER: MetricName[] = ['BLEU-1', 'BLEU-2', 'BLEU-3', 'BLEU-4', 'METEOR', 'ROUGE-L', 'CIDEr-D', 'SPICE'];

function orderMetrics(entries: MetricEntry[]): MetricEntry[] {
  return entries.sort((a, b) => ORDER.indexOf(a.name) - ORDER.indexOf(b.name));
}
