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
interface CaptionVector {
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
  // document frequency: each n-gram once per image, over the union of its references
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

  const refLen = exactLog(images.length);
  const logCache = new Map<number, number>();
  const logDf = (count: number): number => {
    let v = logCache.get(count);
    if (v === undefined) {
      v = exactLog(Math.max(1, count));
      logCache.set(count, v);
    }
    return v;
  };
  const toVector = (ngrams: CaptionNgrams): CaptionVector => {
    const values = new Float64Array(ngrams.ids.length);
    const norms = new Float64Array(MAX_ORDER);
    let length = 0;
    for (let k = 0; k < MAX_ORDER; k++) {
      let norm = 0;
      for (let j = ngrams.offsets[k]; j < ngrams.offsets[k + 1]; j++) {
        const v = ngrams.counts[j] * (refLen - logDf(df[ngrams.ids[j]]));
        values[j] = v;
        norm += v * v;
        if (k === 1) length += ngrams.counts[j];
      }
      norms[k] = Math.sqrt(norm);
    }
    return { ngrams, values, norms, length };
  };

  const penaltyCache = new Map<number, number>();
  const penalty = (delta: number): number => {
    let p = penaltyCache.get(delta);
    if (p === undefined) {
      p = exactPowE(-(delta * delta) / (2 * CIDER_SIGMA * CIDER_SIGMA));
      penaltyCache.set(delta, p);
    }
    return p;
  };

  // reference values are looked up by n-gram id through a stamped scratch table
  const refValue = new Float64Array(ngramCount);
  const refStamp = new Int32Array(ngramCount).fill(-1);
  let stamp = 0;
  const perImage = new Array<number>(images.length);
  const score = new Float64Array(MAX_ORDER);
  const val = new Float64Array(MAX_ORDER);

  images.forEach((image, i) => {
    const hyp = toVector(image.hypothesis);
    score.fill(0);
    for (const refNgrams of image.references) {
      const ref = toVector(refNgrams);
      stamp++;
      for (let j = 0; j < ref.values.length; j++) {
        refStamp[ref.ngrams.ids[j]] = stamp;
        refValue[ref.ngrams.ids[j]] = ref.values[j];
      }
      const p = penalty(hyp.length - ref.length);
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
      for (let k = 0; k < MAX_ORDER; k++) score[k] += val[k];
    }
    // np.mean over the four orders, / number of references, x 10
    let mean = numpyMean(score);
    mean /= image.references.length;
    mean *= 10;
    perImage[i] = mean;
  });

  return { corpus: numpyMean(perImage), perImage };
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
