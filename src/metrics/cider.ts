/**
 * CIDEr-D as the COCO caption toolkit computes it (pycocoevalcap `cider_scorer.py`, the
 * metric it reports as "CIDEr"), to the last bit.
 *
 * - Document frequency df(g): the number of evaluated images whose references (their
 *   union) contain n-gram g. It depends on which images are evaluated.
 * - ref_len = log(number of images); a caption's vector for order n holds, per distinct
 *   n-gram, tf * (ref_len - log(max(1, df))) with tf its count in the caption (n-grams
 *   no reference contains get df = 1, i.e. the full weight ref_len).
 * - For each reference: per order n, sum over the hypothesis's n-grams of
 *   min(v_hyp, v_ref) * v_ref (the "clipping"), divided by |v_hyp| |v_ref| when both are
 *   non-zero, times the Gaussian length penalty e^(-delta^2 / (2 * 6^2)).
 * - delta is the difference of the two captions' `length` as the toolkit computes it:
 *   the number of *bigrams* (its `counts2vec` adds term frequencies when the 0-based order
 *   index is 1), i.e. max(0, words - 1), not the number of words. A one-word and a
 *   two-word caption have delta 1, an empty one and a one-word one delta 0.
 * - Image score: mean over n of the sum over references, divided by the number of
 *   references, times 10. Corpus score: mean over images (numpy's pairwise sum).
 *
 * Scale: the toolkit's, about 0-10 (a strong captioner scores near 1.2; papers print
 * x100).
 */
import { exactLog, exactPowE, numpyMean } from './exact-math';
import { MAX_ORDER, NgramIndex, pySplit, type CaptionNgrams } from './ngrams';
import type { NgramImage } from './bleu';

/** The Gaussian penalty's standard deviation. */
export const CIDER_SIGMA = 6;

export interface CiderResult {
  /** Mean CIDEr-D over images, on the toolkit's scale (x10). */
  corpus: number;
  /** Per-image CIDEr-D, in the images' order. */
  perImage: number[];
}

/** A caption as tf-idf vectors: values aligned with its n-grams, a norm per order. */
export interface CaptionVector {
  ngrams: CaptionNgrams;
  values: Float64Array;
  norms: Float64Array;
  /** The toolkit's `length`: the number of bigrams. */
  length: number;
}

/**
 * Computes CIDEr-D from encoded captions. `ngramCount` is the size of the NgramIndex that
 * encoded them.
 */
export function ciderFromNgrams(images: readonly NgramImage[], ngramCount: number): CiderResult {
  const scorer = new CiderScorer(documentFrequency(images, ngramCount), exactLog(images.length), ngramCount);
  const perImage = images.map((image) => scorer.image(image));
  return { corpus: numpyMean(perImage), perImage };
}

/** Document frequency: per n-gram, the number of images whose references (their union) hold it. */
export function documentFrequency(images: readonly NgramImage[], ngramCount: number): Int32Array {
  const df = new Int32Array(ngramCount);
  const owner = new Int32Array(ngramCount).fill(-1);
  images.forEach((image, i) => {
    for (const ref of image.references) {
      for (let j = 0; j < ref.ids.length; j++) {
        const id = ref.ids[j];
        if (owner[id] !== i) {
          owner[id] = i;
          df[id]++;
        }
      }
    }
  });
  return df;
}

/**
 * Per-image CIDEr-D (the toolkit's scale) under document frequencies `df` and `refLen` =
 * log(number of images in the corpus), the same float operations in the same order for every
 * use. `df` is read at each call, so a caller may refill it (a bootstrap resample) and score
 * again; a caller scoring several hypotheses against the same references computes their
 * vectors once (`vector`) and passes them to `score`.
 */
export class CiderScorer {
  /** log(max(1, count)) by count, grown on demand (a typed array: the inner loops' hot lookup). */
  private logs = new Float64Array(0);
  private readonly penalties = new Map<number, number>();
  // reference values are looked up by n-gram id through a stamped scratch table
  private readonly refValue: Float64Array;
  private readonly refStamp: Int32Array;
  private stamp = 0;
  private readonly total = new Float64Array(MAX_ORDER);
  private readonly val = new Float64Array(MAX_ORDER);

  constructor(
    private readonly df: Int32Array,
    private readonly refLen: number,
    ngramCount: number,
  ) {
    this.refValue = new Float64Array(ngramCount);
    this.refStamp = new Int32Array(ngramCount).fill(-1);
  }

  /** An image's CIDEr-D: its hypothesis against its references. */
  image(image: NgramImage): number {
    return this.score(this.vector(image.hypothesis), image.references.map((r) => this.vector(r)));
  }

  /** A caption's tf-idf vector under the current document frequencies. */
  vector(ngrams: CaptionNgrams): CaptionVector {
    return this.refill({ ngrams, values: new Float64Array(ngrams.ids.length), norms: new Float64Array(MAX_ORDER), length: 0 });
  }

  /** Recomputes a vector from `vector` in place under the current document frequencies (no allocation: a bootstrap refills the same vectors for every resample). */
  refill(vector: CaptionVector): CaptionVector {
    const { ngrams, values, norms } = vector;
    let length = 0;
    for (let k = 0; k < MAX_ORDER; k++) {
      let norm = 0;
      for (let j = ngrams.offsets[k]; j < ngrams.offsets[k + 1]; j++) {
        const v = ngrams.counts[j] * (this.refLen - this.logDf(this.df[ngrams.ids[j]]));
        values[j] = v;
        norm += v * v;
        if (k === 1) length += ngrams.counts[j];
      }
      norms[k] = Math.sqrt(norm);
    }
    vector.length = length;
    return vector;
  }

  /** A hypothesis's CIDEr-D from its vector and its references' (all from `vector` or `refill`). */
  score(hyp: CaptionVector, references: readonly CaptionVector[]): number {
    const { refValue, refStamp, total, val } = this;
    total.fill(0);
    for (const ref of references) {
      const stamp = ++this.stamp;
      for (let j = 0; j < ref.values.length; j++) {
        refStamp[ref.ngrams.ids[j]] = stamp;
        refValue[ref.ngrams.ids[j]] = ref.values[j];
      }
      const p = this.penalty(hyp.length - ref.length);
      for (let k = 0; k < MAX_ORDER; k++) {
        let v = 0;
        const { ids, offsets } = hyp.ngrams;
        for (let j = offsets[k]; j < offsets[k + 1]; j++) {
          const id = ids[j];
          if (refStamp[id] !== stamp) continue; // the reference's value is 0: adds 0
          const r = refValue[id];
          const h = hyp.values[j];
          v += (h < r ? h : r) * r;
        }
        if (hyp.norms[k] !== 0 && ref.norms[k] !== 0) v /= hyp.norms[k] * ref.norms[k];
        val[k] = v * p;
      }
      for (let k = 0; k < MAX_ORDER; k++) total[k] += val[k];
    }
    // np.mean over the four orders, / number of references, x 10
    let mean = numpyMean(total);
    mean /= references.length;
    mean *= 10;
    return mean;
  }

  private logDf(count: number): number {
    if (count >= this.logs.length) {
      const grown = new Float64Array(Math.max(count + 1, 2 * this.logs.length, 64));
      grown.set(this.logs);
      for (let c = this.logs.length; c < grown.length; c++) grown[c] = exactLog(Math.max(1, c));
      this.logs = grown;
    }
    return this.logs[count];
  }

  private penalty(delta: number): number {
    let p = this.penalties.get(delta);
    if (p === undefined) {
      p = exactPowE(-(delta * delta) / (2 * CIDER_SIGMA * CIDER_SIGMA));
      this.penalties.set(delta, p);
    }
    return p;
  }
}

/**
 * CIDEr-D of tokenized captions (words joined by spaces): `references[i]` are the
 * references of image i, `hypotheses[i]` its hypothesis. Document frequencies come from
 * exactly these images.
 */
export function computeCiderD(
  references: readonly (readonly string[])[],
  hypotheses: readonly string[],
): CiderResult {
  const index = new NgramIndex();
  const images = hypotheses.map((hyp, i) => ({
    hypothesis: index.encode(pySplit(hyp)),
    references: references[i].map((r) => index.encode(pySplit(r))),
  }));
  return ciderFromNgrams(images, index.size);
}
