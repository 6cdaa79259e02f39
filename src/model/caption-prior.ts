/**
 * The caption-prior baseline: one caption for every image, the training caption that
 * scores the highest corpus BLEU-4 on the training split when given to all training
 * images. Any model must beat it by a margin to show it reads the image at all.
 *
 *   const prior = bestSingleCaption(dataset);              // chosen on train
 *   prior.caption;                                        // e.g. "a red circle and a blue square"
 *   scorePrior(dataset, prior.caption, 'test');           // BLEU-1..4 etc. on test (coco-caption)
 *
 * Exact and fast: with the toolkit's tokenization, corpus BLEU of a constant hypothesis
 * needs, per n-gram g, S_g(k) = sum over images of min(k, most times g occurs in one of the
 * image's references) for the k it occurs in the hypothesis, and the summed closest
 * reference length per hypothesis length; both are tabulated once, then every candidate
 * costs only its own n-grams.
 */
import type { CaptionDataset, Split } from '../data/dataset';
import { bleuFromStats, computeCaptionMetrics, type ImageId, isMetricScore, type MetricEntry, pySplit, tokenizeCaptions } from '../metrics';
import { closestReferenceLength } from '../metrics/bleu';

const MAX_N = 4;

function ngramCounts(words: readonly string[]): Map<string, number>[] {
  const counts = Array.from({ length: MAX_N }, () => new Map<string, number>());
  for (let n = 1; n <= MAX_N; n++) {
    for (let i = 0; i + n <= words.length; i++) {
      const g = words.slice(i, i + n).join(' ');
      counts[n - 1].set(g, (counts[n - 1].get(g) ?? 0) + 1);
    }
  }
  return counts;
}

export interface CaptionPrior {
  /** The chosen caption as written in the training data. */
  caption: string;
  /** Its corpus BLEU-4 on the training split (coco-caption tokenization, 0-1). */
  trainBleu4: number;
  /** Distinct candidates tried. */
  candidates: number;
}

/** The training caption with the best corpus BLEU-4 when used for every training image. */
export function bestSingleCaption(dataset: Pick<CaptionDataset, 'images'>, split: Split = 'train'): CaptionPrior {
  const images = dataset.images.filter((im) => im.split === split);
  if (images.length === 0) throw new Error(`caption prior: no images in split ${split}`);
  const raw = images.flatMap((im) => im.captions.map((c) => c.raw));
  const tokenized = tokenizeCaptions(raw).map(pySplit);
  // Per n-gram: how often it occurs at most in one reference, per image.
  const maxRef = new Map<string, number[]>();
  const refLengths: number[][] = [];
  let k = 0;
  for (const im of images) {
    const best = new Map<string, number>();
    const lengths: number[] = [];
    for (let j = 0; j < im.captions.length; j++) {
      const words = tokenized[k++];
      lengths.push(words.length);
      for (const counts of ngramCounts(words)) for (const [g, c] of counts) best.set(g, Math.max(best.get(g) ?? 0, c));
    }
    refLengths.push(lengths);
    for (const [g, c] of best) {
      let list = maxRef.get(g);
      if (!list) maxRef.set(g, (list = []));
      list.push(c);
    }
  }
  const clippedSum = new Map<string, number[]>(); // g -> S_g(k) for k = 1..
  const S = (g: string, count: number): number => {
    const list = maxRef.get(g);
    if (!list) return 0;
    let table = clippedSum.get(g);
    if (!table) clippedSum.set(g, (table = []));
    if (table[count] === undefined) table[count] = list.reduce((s, m) => s + Math.min(m, count), 0);
    return table[count];
  };
  const refLengthSum = new Map<number, number>();
  const R = (len: number): number => {
    let r = refLengthSum.get(len);
    if (r === undefined) refLengthSum.set(len, (r = refLengths.reduce((s, ls) => s + closestReferenceLength(len, ls), 0)));
    return r;
  };
  const seen = new Map<string, string>(); // tokenized -> raw
  raw.forEach((r, i) => {
    const key = tokenized[i].join(' ');
    if (!seen.has(key)) seen.set(key, r);
  });
  let best: CaptionPrior = { caption: '', trainBleu4: -1, candidates: seen.size };
  const N = images.length;
  for (const [key, caption] of seen) {
    const words = key === '' ? [] : key.split(' ');
    const counts = ngramCounts(words);
    const guess: number[] = [];
    const correct: number[] = [];
    for (let n = 1; n <= MAX_N; n++) {
      guess.push(Math.max(words.length - n + 1, 0) * N);
      let c = 0;
      for (const [g, cnt] of counts[n - 1]) c += S(g, cnt);
      correct.push(c);
    }
    const bleu = bleuFromStats({ testLength: words.length * N, referenceLength: R(words.length), guess, correct })[3];
    if (bleu > best.trainBleu4) best = { caption, trainBleu4: bleu, candidates: seen.size };
  }
  return best;
}

/** Scores one caption given to every image of a split (free-running protocol: it ignores the image; beam 1). */
export function scorePrior(dataset: Pick<CaptionDataset, 'images'>, caption: string, split: Split): { metrics: MetricEntry[]; bleu4: number } {
  const images = dataset.images.filter((im) => im.split === split);
  const references = new Map<ImageId, string[]>(images.map((im) => [im.id, im.captions.map((c) => c.raw)]));
  const hypotheses = new Map<ImageId, string>(images.map((im) => [im.id, caption]));
  const { metrics } = computeCaptionMetrics(references, hypotheses, { split, protocol: 'free-running', metrics: ['BLEU', 'ROUGE-L', 'CIDEr-D'] });
  const b4 = metrics.find((m) => m.name === 'BLEU-4');
  return { metrics, bleu4: b4 && isMetricScore(b4) ? b4.value : 0 };
}
