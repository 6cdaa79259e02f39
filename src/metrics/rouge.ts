/**
 * ROUGE-L as the COCO caption toolkit computes it (pycocoevalcap `rouge.py`).
 *
 * Per image: for each reference, the longest common subsequence (LCS) of words with the
 * hypothesis gives precision lcs/|hyp| and recall lcs/|ref|; the largest precision and the
 * largest recall over the references (possibly from different references) combine into
 *   F = ((1 + beta^2) P R) / (R + beta^2 P),  beta = 1.2,
 * and F = 0 when either is 0. The corpus score is the mean over images (numpy's pairwise
 * sum, see exact-math.ts).
 *
 * Words are split on single spaces (`split(" ")`), not on whitespace runs as BLEU and
 * CIDEr-D do: an empty caption is one empty word, so an empty hypothesis scores 0, and an
 * empty hypothesis against an empty reference scores 1, as in the toolkit.
 */
import { numpyMean } from './exact-math';

/** The toolkit's beta (vrama91: "updated the value below based on discussion with Hovey"). */
export const ROUGE_BETA = 1.2;

export interface RougeResult {
  /** Mean ROUGE-L F over images, 0-1 scale. */
  corpus: number;
  /** Per-image ROUGE-L F, in the images' order. */
  perImage: number[];
}

/** Length of the longest common subsequence of two word-id sequences. */
export function lcsLength(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length < b.length) [a, b] = [b, a];
  const n = b.length;
  const row = new Int32Array(n + 1);
  for (let i = 1; i <= a.length; i++) {
    const ai = a[i - 1];
    let diagonal = 0; // row[j-1] of the previous i
    for (let j = 1; j <= n; j++) {
      const above = row[j];
      row[j] = ai === b[j - 1] ? diagonal + 1 : above > row[j - 1] ? above : row[j - 1];
      diagonal = above;
    }
  }
  return row[n];
}

/** ROUGE-L F of one hypothesis against its references, all as word-id sequences. */
export function rougeLOfImage(hypothesis: ArrayLike<number>, references: readonly ArrayLike<number>[]): number {
  let precisionMax = -Infinity;
  let recallMax = -Infinity;
  for (const ref of references) {
    const lcs = lcsLength(ref, hypothesis);
    const precision = lcs / hypothesis.length;
    const recall = lcs / ref.length;
    if (precision > precisionMax) precisionMax = precision;
    if (recall > recallMax) recallMax = recall;
  }
  if (precisionMax !== 0 && recallMax !== 0) {
    const b2 = ROUGE_BETA * ROUGE_BETA;
    return ((1 + b2) * precisionMax * recallMax) / (recallMax + b2 * precisionMax);
  }
  return 0;
}

/** Maps the words of space-split captions to integer ids. */
export class WordIds {
  private readonly ids = new Map<string, number>();

  /** `caption.split(' ')` as ids. */
  encode(caption: string): Int32Array {
    const words = caption.split(' ');
    const out = new Int32Array(words.length);
    for (let i = 0; i < words.length; i++) {
      let id = this.ids.get(words[i]);
      if (id === undefined) {
        id = this.ids.size;
        this.ids.set(words[i], id);
      }
      out[i] = id;
    }
    return out;
  }
}

/**
 * ROUGE-L of tokenized captions (words joined by spaces): `references[i]` are the
 * references of image i, `hypotheses[i]` its hypothesis.
 */
export function computeRougeL(
  references: readonly (readonly string[])[],
  hypotheses: readonly string[],
): RougeResult {
  const words = new WordIds();
  const perImage = hypotheses.map((hyp, i) =>
    rougeLOfImage(
      words.encode(hyp),
      references[i].map((r) => words.encode(r)),
    ),
  );
  return { corpus: numpyMean(perImage), perImage };
}
