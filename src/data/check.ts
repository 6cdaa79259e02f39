/**
 * Dataset statistics and the dataset check behind `captioning data check`.
 *
 * Statistics: images and captions per split, captions per image, caption length
 * percentiles and histograms, the vocabulary at a minimum count and how much of each
 * split's text it covers. The check loads the file leniently (so that every problem is
 * found, not just the first), then decodes the images, and says whether the dataset can be
 * used: with `mode: 'strict'` (default) any skipped record makes it unusable, with
 * 'lenient' only what lenient loading cannot skip (structure, undecodable images, no
 * training images).
 */
import { type CaptionDataset, DatasetError, type DatasetImage, formatProblem, imagePath, type LoadMode, type Split, SPLITS } from './dataset';
import type { RestvalPolicy } from '../config';
import { decodeRgb } from './images';
import { loadDataset } from './load';
import { createRng } from '../common/random';
import { buildVocabulary, vocabularyCoverage } from './build-vocabulary';

export interface LengthPercentiles {
  min: number;
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
  max: number;
  mean: number;
}

export interface DatasetStatistics {
  name: string;
  file: string;
  fingerprint: string;
  splits: Record<Split, { images: number; captions: number }>;
  captionsPerImage: { min: number; mean: number; max: number; histogram: Record<number, number> };
  /** Caption length in words, over all splits. */
  lengths: LengthPercentiles;
  /** Captions of each length (index = words) per split. */
  lengthHistogram: Record<Split, number[]>;
  vocabulary: {
    minCount: number;
    /** Distinct words in the training captions. */
    trainWords: number;
    /** Words kept at minCount, special tokens not included. */
    size: number;
    /** Fraction of each split's running words that the vocabulary covers. */
    coverage: Record<Split, number>;
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Length percentiles of a list of caption lengths. */
export function lengthPercentiles(lengths: readonly number[]): LengthPercentiles {
  const sorted = Int32Array.from(lengths).sort();
  const mean = lengths.length === 0 ? 0 : lengths.reduce((a, b) => a + b, 0) / lengths.length;
  return {
    min: sorted.length ? sorted[0] : 0,
    p5: percentile(sorted, 5),
    p25: percentile(sorted, 25),
    p50: percentile(sorted, 50),
    p75: percentile(sorted, 75),
    p95: percentile(sorted, 95),
    max: sorted.length ? sorted[sorted.length - 1] : 0,
    mean,
  };
}

/** Statistics of a loaded dataset; the vocabulary is counted on train at `minCount`. */
export function datasetStatistics(dataset: CaptionDataset, options: { minCount?: number } = {}): DatasetStatistics {
  const minCount = options.minCount ?? 5;
  const splits = { train: { images: 0, captions: 0 }, val: { images: 0, captions: 0 }, test: { images: 0, captions: 0 } };
  const perImage: Record<number, number> = {};
  const lengths: number[] = [];
  const lengthHistogram: Record<Split, number[]> = { train: [], val: [], test: [] };
  for (const image of dataset.images) {
    splits[image.split].images += 1;
    splits[image.split].captions += image.captions.length;
    perImage[image.captions.length] = (perImage[image.captions.length] ?? 0) + 1;
    for (const caption of image.captions) {
      const n = caption.tokens.length;
      lengths.push(n);
      const histogram = lengthHistogram[image.split];
      while (histogram.length <= n) histogram.push(0);
      histogram[n] += 1;
    }
  }
  const counts = Object.keys(perImage).map(Number);
  const coverage = { train: 0, val: 0, test: 0 };
  let trainWords = 0;
  let size = 0;
  if (splits.train.captions > 0) {
    const longest = lengths.reduce((a, b) => Math.max(a, b), 1);
    const vocab = buildVocabulary(dataset, { minCount, maxLength: longest, overLength: 'truncate' });
    trainWords = vocab.report.distinctWords;
    size = vocab.report.keptWords;
    for (const split of SPLITS) coverage[split] = vocabularyCoverage(vocab, dataset.images, split, 0).fraction;
  }
  return {
    name: dataset.name,
    file: dataset.file,
    fingerprint: dataset.fingerprint,
    splits,
    captionsPerImage: {
      min: counts.length ? Math.min(...counts) : 0,
      mean: dataset.images.length ? lengths.length / dataset.images.length : 0,
      max: counts.length ? Math.max(...counts) : 0,
      histogram: perImage,
    },
    lengths: lengthPercentiles(lengths),
    lengthHistogram,
    vocabulary: { minCount, trainWords, size, coverage },
  };
}

/**
 * Images `checkDataset` decodes unless told otherwise: a seeded sample (the same images for
 * the same file), so that a check of COCO-sized data does not decode every image yet still finds
 * a systematic problem (wrong images root, unreadable format); `decode: 'all'` (`--decode all`)
 * decodes every image.
 */
export const DEFAULT_DECODE_SAMPLE = 500;

export interface CheckOptions {
  /** 'strict' (default): any bad record makes the dataset unusable; 'lenient': skipped records are warnings. */
  mode?: LoadMode;
  restval?: RestvalPolicy;
  /** Minimum word count for the vocabulary statistics (default 5). */
  minCount?: number;
  /** Decode a seeded sample of this many images (default DEFAULT_DECODE_SAMPLE), every image ('all') or none. */
  decode?: 'all' | 'none' | number;
  /** Images decoded at once (default 4). */
  concurrency?: number;
  /** Progress lines while decoding; default none. */
  log?: (line: string) => void;
}

export interface CheckResult {
  file: string;
  imagesRoot: string;
  /** Absent when the file could not be loaded at all. */
  statistics?: DatasetStatistics;
  /** What makes the dataset unusable. */
  problems: string[];
  /** What lenient loading skipped (mode 'lenient'), and other things worth knowing. */
  warnings: string[];
  /** Images decoded, how many failed, of how many images, and what was asked for (a sample size, 'all' or 'none'). */
  decoded: { checked: number; failed: number; of: number; requested: 'all' | 'none' | number };
  usable: boolean;
}

/** Decodes the images (all or a sample); returns one message per image that failed. */
async function decodeImages(dataset: CaptionDataset, options: CheckOptions): Promise<{ checked: number; failures: string[] }> {
  const decode = options.decode ?? DEFAULT_DECODE_SAMPLE;
  if (decode === 'none') return { checked: 0, failures: [] };
  let images: DatasetImage[] = dataset.images;
  if (typeof decode === 'number' && decode < images.length) {
    images = createRng(`check:${dataset.fingerprint}`).shuffle([...images]).slice(0, decode);
  }
  const failures: string[] = [];
  let next = 0;
  let done = 0;
  const every = Math.max(500, Math.ceil(images.length / 10));
  const worker = async () => {
    while (next < images.length) {
      const image = images[next++];
      try {
        await decodeRgb(imagePath(dataset, image));
      } catch (error) {
        failures.push(`image ${image.id} (${image.file}): ${(error as Error).message}`);
      }
      done += 1;
      if (options.log && done % every === 0) options.log(`check: decoded ${done}/${images.length} images`);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return { checked: images.length, failures };
}

/** Validates a dataset file and its images and gathers its statistics. */
export async function checkDataset(file: string, imagesRoot: string, options: CheckOptions = {}): Promise<CheckResult> {
  const mode = options.mode ?? 'strict';
  const requested = options.decode ?? DEFAULT_DECODE_SAMPLE;
  const result: CheckResult = { file, imagesRoot, problems: [], warnings: [], decoded: { checked: 0, failed: 0, of: 0, requested }, usable: false };
  let dataset: CaptionDataset;
  try {
    dataset = loadDataset(file, { imagesRoot, mode: 'lenient', restval: options.restval ?? 'train' });
  } catch (error) {
    if (!(error instanceof DatasetError)) throw error;
    result.problems.push(error.message);
    return result;
  }
  for (const problem of dataset.report.skipped) {
    const line = `${problem.action}: ${formatProblem(problem)}`;
    if (problem.action === 'dropped' || mode === 'lenient') result.warnings.push(line);
    else result.problems.push(line);
  }
  const decoded = await decodeImages(dataset, options);
  result.decoded = { checked: decoded.checked, failed: decoded.failures.length, of: dataset.images.length, requested };
  result.problems.push(...decoded.failures);
  result.statistics = datasetStatistics(dataset, { minCount: options.minCount });
  const { splits } = result.statistics;
  if (splits.train.images === 0) result.problems.push('no training images: nothing to train on (or to count the vocabulary on)');
  for (const split of ['val', 'test'] as const) {
    if (splits[split].images === 0) result.warnings.push(`no ${split} images`);
  }
  result.usable = result.problems.length === 0;
  return result;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The check as text: statistics, problems, warnings and the verdict. */
export function formatCheck(result: CheckResult, maxListed = 20): string {
  const lines: string[] = [`dataset ${result.file}`, `images  ${result.imagesRoot}`];
  const s = result.statistics;
  if (s) {
    lines.push(`name ${s.name}, fingerprint ${s.fingerprint}`);
    lines.push('split   images  captions');
    for (const split of SPLITS) lines.push(`${split.padEnd(7)} ${String(s.splits[split].images).padStart(6)}  ${String(s.splits[split].captions).padStart(8)}`);
    lines.push(`captions per image: min ${s.captionsPerImage.min}, mean ${s.captionsPerImage.mean.toFixed(2)}, max ${s.captionsPerImage.max}`);
    const l = s.lengths;
    lines.push(`caption length (words): min ${l.min}, p5 ${l.p5}, p25 ${l.p25}, median ${l.p50}, p75 ${l.p75}, p95 ${l.p95}, max ${l.max}, mean ${l.mean.toFixed(2)}`);
    lines.push(
      `vocabulary (train, min count ${s.vocabulary.minCount}): ${s.vocabulary.size} of ${s.vocabulary.trainWords} words kept (+4 special tokens); ` +
        `coverage train ${pct(s.vocabulary.coverage.train)}, val ${pct(s.vocabulary.coverage.val)}, test ${pct(s.vocabulary.coverage.test)}`,
    );
  }
  const d = result.decoded;
  const sampled = d.requested === 'none' ? ' (decoding skipped)' : d.checked < d.of ? ` (a seeded sample of ${d.checked} of the ${d.of} images; decode 'all', --decode all, for every one)` : '';
  lines.push(`images decoded: ${d.checked}, failed: ${d.failed}${sampled}`);
  const list = (title: string, items: string[]) => {
    if (items.length === 0) return;
    lines.push(`${title} (${items.length}):`);
    for (const item of items.slice(0, maxListed)) lines.push(`  ${item}`);
    if (items.length > maxListed) lines.push(`  ... and ${items.length - maxListed} more`);
  };
  list('problems', result.problems);
  list('warnings', result.warnings);
  lines.push(result.usable ? 'usable: yes' : 'usable: NO');
  return lines.join('\n');
}
