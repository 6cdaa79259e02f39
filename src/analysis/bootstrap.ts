/**
 * A paired bootstrap over test images (issue #18): how much of a difference in corpus BLEU-4
 * or CIDEr-D between an arm and its reference is the luck of which images were tested.
 *
 * Each resample draws the test images with replacement (seeded, the same draws for both
 * sides: paired); on it, each side's corpus score is recomputed with the coco-caption
 * formulas (metrics/bleu.ts, metrics/cider.ts) as if the drawn images were the test set (an
 * image drawn twice is two images: it counts twice in BLEU's sums and in CIDEr-D's document
 * frequencies), averaged over the side's seeds; the difference arm - reference is kept. The
 * 95 % interval is the 2.5th to 97.5th percentile of the differences (linear interpolation,
 * as numpy's default); the point estimate is the difference on the test set itself.
 *
 * Fast at COCO scale because nothing is tokenized or encoded twice: BLEU's per-image
 * statistics are whole numbers summed with each image's multiplicity; CIDEr-D's document
 * frequencies are summed the same way, and each drawn image is scored once per resample.
 * test/analysis/bootstrap.test.ts checks every resample against a brute-force recomputation
 * on the resampled corpus; `npm run bench` times 5,000 images x 1,000 resamples.
 *
 *   const [bleu4, cider] = pairedBootstrap({ references, arm: [hypsSeed1, hypsSeed2, hypsSeed3], reference: [...] });
 *   bleu4.low > 0;   // the arm's gain survives
 */
import { createRng } from '../common/random';
import {
  bleuFromStats,
  CiderScorer,
  exactLog,
  imageBleuStats,
  MAX_ORDER,
  NgramIndex,
  type NgramImage,
  numpyMean,
  pySplit,
  sumBleuStats,
} from '../metrics';

/** The metrics the bootstrap recomputes, in the order it returns them. */
export const BOOTSTRAP_METRICS = ['BLEU-4', 'CIDEr-D'] as const;
export type BootstrapMetric = (typeof BOOTSTRAP_METRICS)[number];

export interface PairedInput {
  /** Per test image, its reference captions (tokenized as the toolkit does: words joined by spaces). */
  references: readonly (readonly string[])[];
  /** The arm's hypotheses, one list per seed, each aligned with `references`. */
  arm: readonly (readonly string[])[];
  /** The reference arm's hypotheses, one list per seed. */
  reference: readonly (readonly string[])[];
}

export interface PairedDifference {
  metric: BootstrapMetric;
  /** Corpus scores on the test set, mean over seeds (0-1 for BLEU-4, the toolkit's ~0-10 for CIDEr-D). */
  arm: number;
  reference: number;
  /** arm - reference on the test set. */
  difference: number;
  /** The interval's ends (`level`, default 95 %). */
  low: number;
  high: number;
  level: number;
  /** Whether the interval leaves 0 out: the difference is not the luck of the images. */
  excludesZero: boolean;
  resamples: number;
  /** Each resample's difference, in draw order. */
  differences: Float64Array;
}

/**
 * Draws of `n` image indices with replacement, one after another from a seeded generator: the
 * same draws for every system compared, and draw r is the same whichever thread asks for it.
 * `draw` is refilled in place (the caller keeps what it needs).
 */
export function* drawSequence(n: number, seed: number, draw = new Int32Array(n)): Generator<Int32Array> {
  const rng = createRng(`paired-bootstrap:${seed}`);
  for (;;) {
    for (let i = 0; i < n; i++) draw[i] = rng.int(n);
    yield draw;
  }
}

/** The first `resamples` draws of `drawSequence`, each its own array. */
export function resampleDraws(n: number, resamples: number, seed: number): Int32Array[] {
  const out: Int32Array[] = [];
  if (resamples <= 0) return out;
  for (const draw of drawSequence(n, seed)) {
    out.push(Int32Array.from(draw));
    if (out.length === resamples) break;
  }
  return out;
}

/** The q-quantile of sorted values, interpolating linearly between neighbours (numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const at = (sorted.length - 1) * q;
  const below = Math.floor(at);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (at - below);
}

export interface BootstrapOptions {
  /** Default 1,000. */
  resamples?: number;
  /** Of the draws' generator (default 1). */
  seed?: number;
  /** Of the interval (default 0.95). */
  level?: number;
}

/** Both metrics of each side (mean over its seeds) on the corpus of a draw (null: the test set itself). */
export type BootstrapScores = (draw: Int32Array | null) => Record<BootstrapMetric, [number, number]>;

/**
 * The paired bootstrap of BLEU-4 and CIDEr-D differences (arm - reference), `resamples`
 * draws (default 1,000) from `seed`; checks that every list covers every image.
 * (bootstrap-threads.ts runs the same resamples on several threads, to the same numbers.)
 */
export function pairedBootstrap(input: PairedInput, options: BootstrapOptions = {}): PairedDifference[] {
  const resamples = options.resamples ?? 1000;
  const scores = bootstrapScorer(input);
  const differences = resampleDifferences(scores, input.references.length, options.seed ?? 1, 0, resamples);
  return summariseBootstrap(scores(null), differences, options.level ?? 0.95);
}

/** The scorer of both sides on any draw: everything tokenized, counted and vectorised once. */
export function bootstrapScorer(input: PairedInput): BootstrapScores {
  const n = input.references.length;
  if (n === 0) throw new Error('pairedBootstrap: no test images');
  if (input.arm.length === 0 || input.reference.length === 0) throw new Error('pairedBootstrap: give at least one seed of hypotheses for each side');
  for (const [side, lists] of [['arm', input.arm], ['reference', input.reference]] as const) {
    lists.forEach((list, s) => {
      if (list.length !== n) throw new Error(`pairedBootstrap: ${side} seed ${s + 1} has ${list.length} hypotheses for ${n} test images`);
    });
  }
  const index = new NgramIndex();
  const references = input.references.map((refs) => refs.map((r) => index.encode(pySplit(r))));
  const encode = (hyps: readonly string[]): NgramImage[] => hyps.map((h, i) => ({ hypothesis: index.encode(pySplit(h)), references: references[i] }));
  const sides = [input.arm.map(encode), input.reference.map(encode)];
  const bleuStats = sides.map((systems) => systems.map((images) => imageBleuStats(images, index.size)));
  // CIDEr-D: each image's distinct reference n-grams (what its document frequency counts), and
  // one scorer per system over a frequency table refilled for each resample.
  const referenceNgrams = sides[0][0].map((image) => distinctReferenceNgrams(image));
  const df = new Int32Array(index.size);
  const refLen = exactLog(n); // log(number of images): a resample has n images too
  const cider = new CiderScorer(df, refLen, index.size); // reads df at each call
  // Every caption's vector, allocated once and refilled for the images each resample draws.
  const referenceVectors = references.map((refs) => refs.map((r) => cider.vector(r)));
  const hypothesisVectors = sides.map((systems) => systems.map((images) => images.map((image) => cider.vector(image.hypothesis))));

  return (draw) => {
    const multiplicity = new Int32Array(n);
    if (draw) for (const i of draw) multiplicity[i]++;
    else multiplicity.fill(1);
    df.fill(0);
    referenceNgrams.forEach((ids, i) => {
      const w = multiplicity[i];
      if (w > 0) for (let j = 0; j < ids.length; j++) df[ids[j]] += w;
    });
    const order = draw ?? Int32Array.from({ length: n }, (_, i) => i);
    // Each drawn image's reference vectors once, for every system.
    for (let i = 0; i < n; i++) if (multiplicity[i] > 0) for (const v of referenceVectors[i]) cider.refill(v);
    const perImage = new Float64Array(n);
    const drawn = new Float64Array(n); // the scores in the draw's order
    const out = { 'BLEU-4': [0, 0], 'CIDEr-D': [0, 0] } as Record<BootstrapMetric, [number, number]>;
    sides.forEach((systems, side) => {
      let bleu = 0;
      let ciderSum = 0;
      systems.forEach((images, s) => {
        bleu += bleuFromStats(sumBleuStats(bleuStats[side][s], multiplicity))[MAX_ORDER - 1];
        const hyps = hypothesisVectors[side][s];
        for (let i = 0; i < n; i++) if (multiplicity[i] > 0) perImage[i] = cider.score(cider.refill(hyps[i]), referenceVectors[i]);
        for (let j = 0; j < n; j++) drawn[j] = perImage[order[j]];
        ciderSum += numpyMean(drawn); // the corpus mean in the draw's order, as the toolkit would take it
      });
      out['BLEU-4'][side] = bleu / systems.length;
      out['CIDEr-D'][side] = ciderSum / systems.length;
    });
    return out;
  };
}

/** The differences arm - reference on resamples [from, to) of the draws from `seed`, in draw order. */
export function resampleDifferences(scores: BootstrapScores, n: number, seed: number, from: number, to: number): Record<BootstrapMetric, Float64Array> {
  const differences = { 'BLEU-4': new Float64Array(Math.max(0, to - from)), 'CIDEr-D': new Float64Array(Math.max(0, to - from)) };
  if (to <= from) return differences;
  let r = 0;
  for (const draw of drawSequence(n, seed)) {
    if (r >= from) {
      const s = scores(draw);
      for (const m of BOOTSTRAP_METRICS) differences[m][r - from] = s[m][0] - s[m][1];
    }
    if (++r >= to) break;
  }
  return differences;
}

/** The point estimates and the percentile intervals of the resamples' differences. */
export function summariseBootstrap(observed: Record<BootstrapMetric, [number, number]>, differences: Record<BootstrapMetric, Float64Array>, level: number): PairedDifference[] {
  return BOOTSTRAP_METRICS.map((metric) => {
    const sorted = Float64Array.from(differences[metric]).sort();
    const tail = Math.round(((1 - level) / 2) * 1e12) / 1e12; // 0.025 for 95 %, not 0.025000000000000022
    const [low, high] = [quantile(sorted, tail), quantile(sorted, 1 - tail)];
    const [arm, reference] = observed[metric];
    return { metric, arm, reference, difference: arm - reference, low, high, level, excludesZero: low > 0 || high < 0, resamples: sorted.length, differences: differences[metric] };
  });
}

/** The distinct n-gram ids of an image's references (their union): what its document frequency counts (metrics/cider.ts `documentFrequency`, here weighted by each image's draws). */
function distinctReferenceNgrams(image: NgramImage): Int32Array {
  const seen = new Set<number>();
  for (const ref of image.references) for (const id of ref.ids) seen.add(id);
  return Int32Array.from(seen);
}
