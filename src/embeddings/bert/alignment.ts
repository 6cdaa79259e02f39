/**
 * WordPiece-to-word alignment: a word split into pieces (`triangles` -> `triangle ##s`, or
 * `man's` -> `man ' s` by BERT's pre-tokenizer) gets one vector from its pieces' vectors.
 *
 *   sum    the pieces' vectors added (ajamjoom/Image-Captions, the report's code ancestry)
 *   mean   their average
 *   first  the first piece's vector (BERT's paper, for tagging)
 *
 * Dimensions: W vector width, K pieces of a word.
 */
import { type Alignment, ALIGNMENTS } from '../../config';

/** Checks an alignment name, naming the valid ones. */
export function checkAlignment(value: string): Alignment {
  if (!(ALIGNMENTS as readonly string[]).includes(value)) throw new Error(`BERT alignment ${JSON.stringify(value)} is not one of ${ALIGNMENTS.join(', ')}`);
  return value as Alignment;
}

/**
 * Writes the word vector of rows [start, end) of `rows` (row-major, width W) into `out` at
 * row `outRow`.
 */
export function combinePieces(rows: Float32Array, W: number, start: number, end: number, alignment: Alignment, out: Float32Array, outRow: number): void {
  const K = end - start;
  if (K < 1) throw new Error(`combinePieces: a word needs at least one piece, got rows ${start}..${end}`);
  const o = outRow * W;
  switch (alignment) {
    case 'first':
      out.set(rows.subarray(start * W, start * W + W), o);
      return;
    case 'sum':
    case 'mean': {
      for (let j = 0; j < W; j++) out[o + j] = 0;
      for (let k = start; k < end; k++) {
        const r = k * W;
        for (let j = 0; j < W; j++) out[o + j] += rows[r + j];
      }
      if (alignment === 'mean' && K > 1) for (let j = 0; j < W; j++) out[o + j] /= K;
      return;
    }
    default: {
      const never: never = alignment;
      throw new Error(`combinePieces: unknown alignment ${String(never)}`);
    }
  }
}
