/**
 * Masked-LM batches: sequences `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]` (segment ids 0 for
 * A, 1 for B, as BERT's pretraining pairs, so that both segment embeddings are trained), and
 * BERT's masking: 15% of the non-special pieces of each sequence (at least one) are chosen;
 * of those 80% become `[MASK]`, 10% a random piece, 10% stay; the loss is on the chosen ones.
 *
 * Dimensions: B sequences, S pieces (the batch's longest), M chosen positions.
 */
import type { Rng } from '../../common/random';
import type { WordPieceVocabulary } from './wordpiece';

/** One unmasked sequence. */
export interface Sequence {
  ids: Int32Array; // [S_b]
  types: Int32Array; // [S_b]
}

/** A batch on the host, ready for tensors. */
export interface MlmBatch {
  B: number;
  S: number;
  inputIds: Int32Array; // [B*S] (masked)
  attentionMask: Int32Array; // [B*S]
  tokenTypeIds: Int32Array; // [B*S]
  /** Flat positions b*S + s of the chosen pieces. */
  positions: Int32Array; // [M]
  /** The original piece at each chosen position. */
  labels: Int32Array; // [M]
}

export interface MaskingOptions {
  /** Fraction of pieces chosen (default 0.15). */
  probability?: number;
}

/** `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, cut to `maxLength` pieces (b first, then a). */
export function makeSequence(vocab: WordPieceVocabulary, a: ArrayLike<number>, b: ArrayLike<number> | null, maxLength: number): Sequence {
  const special = b ? 3 : 2;
  let lenA = a.length;
  let lenB = b ? b.length : 0;
  while (lenA + lenB + special > maxLength) {
    if (lenB > lenA || (lenB > 0 && lenB === lenA)) lenB -= 1;
    else lenA -= 1;
  }
  if (lenA < 1) throw new Error(`masking: maxLength ${maxLength} leaves no room for a caption`);
  const S = lenA + lenB + (b ? 3 : 2);
  const ids = new Int32Array(S);
  const types = new Int32Array(S);
  let i = 0;
  ids[i++] = vocab.clsId;
  for (let k = 0; k < lenA; k++) ids[i++] = a[k];
  ids[i++] = vocab.sepId;
  if (b) {
    for (let k = 0; k < lenB; k++) {
      types[i] = 1;
      ids[i++] = b[k];
    }
    types[i] = 1;
    ids[i++] = vocab.sepId;
  }
  return { ids, types };
}

/** Pads sequences into one batch and masks it. */
export function maskBatch(vocab: WordPieceVocabulary, sequences: readonly Sequence[], rng: Rng, options: MaskingOptions = {}): MlmBatch {
  const p = options.probability ?? 0.15;
  if (!(p > 0 && p < 1)) throw new Error(`masking: probability must be in (0, 1), got ${p}`);
  const B = sequences.length;
  const S = Math.max(...sequences.map((s) => s.ids.length));
  const inputIds = new Int32Array(B * S).fill(vocab.padId);
  const attentionMask = new Int32Array(B * S);
  const tokenTypeIds = new Int32Array(B * S);
  const positions: number[] = [];
  const labels: number[] = [];
  const special = new Set([vocab.padId, vocab.clsId, vocab.sepId, vocab.maskId, vocab.unkId]);
  const firstRegular = vocab.firstRegularId;
  const regular = vocab.size - firstRegular;
  sequences.forEach((seq, b) => {
    const base = b * S;
    inputIds.set(seq.ids, base);
    tokenTypeIds.set(seq.types, base);
    attentionMask.fill(1, base, base + seq.ids.length);
    const candidates: number[] = [];
    seq.ids.forEach((id, s) => {
      if (!special.has(id)) candidates.push(s);
    });
    if (candidates.length === 0) return;
    const count = Math.max(1, Math.round(candidates.length * p));
    rng.shuffle(candidates);
    for (const s of candidates.slice(0, count).sort((x, y) => x - y)) {
      positions.push(base + s);
      labels.push(seq.ids[s]);
      const r = rng.next();
      if (r < 0.8) inputIds[base + s] = vocab.maskId;
      else if (r < 0.9 && regular > 0) inputIds[base + s] = firstRegular + rng.int(regular);
    }
  });
  return { B, S, inputIds, attentionMask, tokenTypeIds, positions: Int32Array.from(positions), labels: Int32Array.from(labels) };
}
