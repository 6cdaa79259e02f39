/**
 * BLEU-1..4 as the COCO caption toolkit computes it (pycocoevalcap `bleu_scorer.py`,
 * `compute_score(option='closest')`), to the last bit.
 *
 * Per image: the hypothesis's n-gram counts are clipped by the largest count of that n-gram
 * in any one reference; "guesses" are the hypothesis's n-gram count, max(0, c - n + 1);
 * the reference length is the reference length closest to the hypothesis length c, the
 * shorter one on a tie.
 *
 * Corpus: matches, guesses, c and r are summed over images, then
 *   BLEU-n = prod_{k<=n} ((match_k + 1e-15) / (guess_k + 1e-9)) ^ (1/n)
 * (the product is built up k by k and each BLEU-n is its (1/n)-th power), times the
 * brevity penalty exp(1 - 1/ratio) when ratio = (c + 1e-15) / (r + 1e-9) < 1. So a corpus
 * with no 4-gram match has BLEU-4 = ((m1 m2 m3 (1e-15)) / ...)^(1/4), tiny but not zero, and
 * an empty hypothesis corpus (c = 0) gets a penalty exp(1 - (r + 1e-9)/1e-15) = 0.
 *
 * Per-image scores use the same formula with the image's own counts and lengths; they are
 * what the toolkit returns next to the corpus score (not their mean).
 */
import { exactExp, exactPow } from './exact-math';
import { MAX_ORDER, NgramIndex, pySplit, type CaptionNgrams } from './ngrams';

const TINY = 1e-15;
const SMALL = 1e-9;

/** One image: its hypothesis and references, as n-grams. */
export interface NgramImage {
  hypothesis: CaptionNgrams;
  references: readonly CaptionNgrams[];
}

/** Sufficient statistics of one image (the toolkit's `cook_test` output). */
export interface BleuStats {
  /** Hypothesis length c. */
  testLength: number;
  /** The closest reference length r. */
  referenceLength: number;
  /** Hypothesis n-grams per order (k = 1..4 at index k-1). */
  guess: number[];
  /** Clipped matches per order. */
  correct: number[];
}

export interface BleuResult {
  /** Corpus BLEU-1..4 (index n-1), 0-1 scale. */
  corpus: number[];
  /** Per-image BLEU-1..4: perImage[n-1][image], in the images' order. */
  perImage: number[][];
  /** Summed statistics (c, r, guesses, matches) of the corpus. */
  totals: BleuStats;
}

/** The closest reference length to c; ties go to the shorter reference. */
export function closestReferenceLength(testLength: number, referenceLengths: readonly number[]): number {
  let best = referenceLengths[0];
  let bestDiff = Math.abs(best - testLength);
  for (let i = 1; i < referenceLengths.length; i++) {
    const l = referenceLengths[i];
    const diff = Math.abs(l - testLength);
    if (diff < bestDiff || (diff === bestDiff && l < best)) {
      best = l;
      bestDiff = diff;
    }
  }
  return best;
}

/** BLEU-1..4 with brevity penalty from summed or per-image statistics. */
export function bleuFromStats(stats: BleuStats): number[] {
  const scores: number[] = [];
  let product = 1;
  for (let k = 0; k < MAX_ORDER; k++) {
    product *= (stats.correct[k] + TINY) / (stats.guess[k] + SMALL);
    scores.push(exactPow(product, 1 / (k + 1)));
  }
  const ratio = (stats.testLength + TINY) / (stats.referenceLength + SMALL);
  if (ratio < 1) {
    const penalty = exactExp(1 - 1 / ratio);
    for (let k = 0; k < MAX_ORDER; k++) scores[k] *= penalty;
  }
  return scores;
}

/**
 * Per-image statistics and scores, then the corpus scores. `ngramCount` is the size of the
 * NgramIndex that encoded the captions.
 */
export function bleuFromNgrams(images: readonly NgramImage[], ngramCount: number): BleuResult {
  const stats = imageBleuStats(images, ngramCount);
  const perImage: number[][] = Array.from({ length: MAX_ORDER }, () => new Array<number>(images.length));
  stats.forEach((image, i) => bleuFromStats(image).forEach((score, k) => (perImage[k][i] = score)));
  const totals = sumBleuStats(stats);
  return { corpus: bleuFromStats(totals), perImage, totals };
}

/** A corpus's statistics: the images', each counted `multiplicity[i]` times where given (a bootstrap resample), else once. */
export function sumBleuStats(images: readonly BleuStats[], multiplicity?: ArrayLike<number>): BleuStats {
  const total: BleuStats = { testLength: 0, referenceLength: 0, guess: new Array<number>(MAX_ORDER).fill(0), correct: new Array<number>(MAX_ORDER).fill(0) };
  images.forEach((stats, i) => {
    const w = multiplicity ? multiplicity[i] : 1;
    if (w === 0) return;
    total.testLength += w * stats.testLength;
    total.referenceLength += w * stats.referenceLength;
    for (let k = 0; k < MAX_ORDER; k++) {
      total.guess[k] += w * stats.guess[k];
      total.correct[k] += w * stats.correct[k];
    }
  });
  return total;
}

/** Each image's sufficient statistics (the toolkit's `cook_test`): whole numbers, so a corpus's are their sums in any order. */
export function imageBleuStats(images: readonly NgramImage[], ngramCount: number): BleuStats[] {
  const maxRef = new Int32Array(ngramCount);
  const owner = new Int32Array(ngramCount).fill(-1);
  const refLengths: number[] = [];
  return images.map((image, i) => {
    // max count of each n-gram over the references (cook_refs)
    refLengths.length = 0;
    for (const ref of image.references) {
      refLengths.push(ref.length);
      for (let j = 0; j < ref.ids.length; j++) {
        const id = ref.ids[j];
        if (owner[id] !== i) {
          owner[id] = i;
          maxRef[id] = ref.counts[j];
        } else if (ref.counts[j] > maxRef[id]) {
          maxRef[id] = ref.counts[j];
        }
      }
    }
    // clipped matches of the hypothesis (cook_test)
    const hyp = image.hypothesis;
    const c = hyp.length;
    const stats: BleuStats = {
      testLength: c,
      referenceLength: closestReferenceLength(c, refLengths),
      guess: [],
      correct: [],
    };
    for (let k = 1; k <= MAX_ORDER; k++) {
      let correct = 0;
      for (let j = hyp.offsets[k - 1]; j < hyp.offsets[k]; j++) {
        const id = hyp.ids[j];
        if (owner[id] === i) correct += Math.min(maxRef[id], hyp.counts[j]);
      }
      stats.guess.push(Math.max(0, c - k + 1));
      stats.correct.push(correct);
    }
    return stats;
  });
}

/**
 * BLEU-1..4 of tokenized captions (the tokenizer's output: words joined by spaces).
 * `references[i]` are the references of image i, `hypotheses[i]` its hypothesis.
 */
export function computeBleu(
  references: readonly (readonly string[])[],
  hypotheses: readonly string[],
): BleuResult {
  const index = new NgramIndex();
  const images = hypotheses.map((hyp, i) => ({
    hypothesis: index.encode(pySplit(hyp)),
    references: references[i].map((r) => index.encode(pySplit(r))),
  }));
  return bleuFromNgrams(images, index.size);
}
