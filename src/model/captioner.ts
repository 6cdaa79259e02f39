/**
 * The captioner: image encoder (a trainable CNN, or none when the decoder reads cached
 * features of a frozen one) + word inputs (src/embeddings) + decoder, and teacher forcing.
 *
 * Dimensions: B captions, L ids per caption row (`<start>` … `<end>` `<pad>`…), T = the
 * batch's longest caption's number of predictions (its length - 1), P regions, D feature
 * size, E word-vector size, H hidden size, V vocabulary size, N real tokens of the batch.
 *
 * Teacher forcing (Xu et al., as the reference code): captions sorted by length, longest
 * first, so that at step t the captions still running are the first B_t rows; every step
 * runs on those rows only, and padding costs nothing beyond the batch's longest caption.
 * Word vectors and their LSTM input projection are computed once for the N real positions;
 * the hidden states of all steps are stacked and sent through dropout and the output layer
 * in one matMul.
 */
import * as tf from '@tensorflow/tfjs';

import type { WordInputs } from '../embeddings/word-inputs';
import type { TrainableEncoder } from '../encoders/encoder';
import { Decoder, type EncodedImages } from './decoder';
import { captionDropout } from './dropout';
import { tidyObject } from './tidy';

/** A caption batch laid out for teacher forcing; host arrays, made by {@link teacherBatch}. */
export interface TeacherBatch {
  /** Captions B and steps T. */
  B: number;
  T: number;
  /** Row of the original batch for every sorted row (sorted by length, longest first). */
  order: Int32Array; // [B]
  /** The distinct images of the batch (the keys given to teacherBatch), in order of first use by a sorted row. */
  uniqueImages: Int32Array; // [U]
  /** For every sorted row, its image's position in uniqueImages: the encoder runs once per image. */
  imageOf: Int32Array; // [B]
  /** Input ids, time-major: inputs[t * B + b] is the word sorted caption b reads at step t. */
  inputs: Int32Array; // [T * B]
  /** Captions still running at each step: B_0 >= B_1 >= … >= B_{T-1} >= 1. */
  stepSizes: number[]; // [T]
  /** Positions t * B + b (b < B_t) of the real tokens, step by step: the order of logits and targets. */
  realIndex: Int32Array; // [N]
  /** Target id of every real position. */
  targets: Int32Array; // [N]
  /** Every sorted caption's key (the caller's caption id; default its row in the batch): what its dropout mask is drawn from (dropout.ts). */
  keys: Int32Array; // [B]
}

/**
 * Lays out caption ids [B, L] (`<start>` w… `<end>` `<pad>`…, with their lengths in ids) for
 * teacher forcing. Caption b makes lengths[b] - 1 predictions. `images` [B] names each
 * caption's image (default: every caption its own); captions of one image share one
 * encoder pass. `keys` [B] names each caption for its dropout mask (default: its row b), so
 * that a caption keeps its mask in whatever batch or shard it is trained.
 */
export function teacherBatch(ids: Int32Array, lengths: Int32Array, L: number, images?: ArrayLike<number>, keys?: ArrayLike<number>): TeacherBatch {
  const B = lengths.length;
  if (images && images.length !== B) throw new Error(`teacherBatch: ${images.length} image keys for ${B} captions`);
  if (keys && keys.length !== B) throw new Error(`teacherBatch: ${keys.length} caption keys for ${B} captions`);
  if (ids.length !== B * L) throw new Error(`teacherBatch: ids hold ${ids.length} values, expected B * L = ${B} * ${L}`);
  for (let b = 0; b < B; b++) {
    if (lengths[b] < 2 || lengths[b] > L) throw new Error(`teacherBatch: caption ${b} has length ${lengths[b]}; it must be in 2..${L} (<start> and <end> included)`);
  }
  // Stable sort by length, longest first.
  const order = Int32Array.from({ length: B }, (_, b) => b).sort((x, y) => lengths[y] - lengths[x] || x - y);
  const T = lengths[order[0]] - 1;
  const inputs = new Int32Array(T * B); // [T, B]
  const stepSizes: number[] = [];
  const realIndex: number[] = [];
  const targets: number[] = [];
  for (let t = 0; t < T; t++) {
    let running = 0;
    for (let s = 0; s < B; s++) {
      const b = order[s];
      inputs[t * B + s] = ids[b * L + t];
      if (lengths[b] - 1 > t) {
        running += 1;
        realIndex.push(t * B + s);
        targets.push(ids[b * L + t + 1]);
      }
    }
    stepSizes.push(running);
  }
  const slot = new Map<number, number>();
  const imageOf = new Int32Array(B);
  order.forEach((b, s) => {
    const key = images ? images[b] : b;
    if (!slot.has(key)) slot.set(key, slot.size);
    imageOf[s] = slot.get(key)!;
  });
  const uniqueImages = Int32Array.from(slot.keys());
  const captionKeys = Int32Array.from(order, (b) => (keys ? keys[b] : b));
  return { B, T, order, uniqueImages, imageOf, inputs, stepSizes, realIndex: Int32Array.from(realIndex), targets: Int32Array.from(targets), keys: captionKeys };
}

/** What teacher forcing returns (all tensors belong to the caller's tidy scope). */
export interface TeacherForcing {
  logits: tf.Tensor2D; // [N, V]
  /** sum over real steps of alpha_t, per sorted caption. */
  alphaSum: tf.Tensor2D; // [B, P]
}

export interface CaptionerParts {
  /** A CNN trained with the decoder, or null when the inputs are cached features. */
  encoder: TrainableEncoder | null;
  words: WordInputs;
  decoder: Decoder;
}

export class Captioner {
  readonly encoder: TrainableEncoder | null;
  readonly words: WordInputs;
  readonly decoder: Decoder;

  constructor(parts: CaptionerParts) {
    this.encoder = parts.encoder;
    this.words = parts.words;
    this.decoder = parts.decoder;
    if (parts.encoder && parts.encoder.featureDim !== parts.decoder.options.featureDim) {
      throw new Error(`Captioner: encoder gives ${parts.encoder.featureDim} features per region, the decoder reads ${parts.decoder.options.featureDim}`);
    }
    if (parts.words.dim !== parts.decoder.options.embeddingDim) {
      throw new Error(`Captioner: word inputs have ${parts.words.dim} dimensions, the decoder reads ${parts.decoder.options.embeddingDim}`);
    }
  }

  /** Every trainable weight by a stable, prefixed name (`encoder.…`, `words.…`, `decoder.…`). */
  variables(): Map<string, tf.Variable> {
    const all = new Map<string, tf.Variable>();
    if (this.encoder) for (const [k, v] of this.encoder.variables) all.set(`encoder.${k}`, v);
    for (const [k, v] of this.words.variables) all.set(`words.${k}`, v);
    for (const [k, v] of this.decoder.variables) all.set(`decoder.${k}`, v);
    return all;
  }

  /**
   * Pixels [U, S, S, 3] (with a trainable encoder) or features [U, P, D] (without) -> the
   * decoder's view, once per image; `rows` [B] (optional) then repeats images per caption.
   */
  encode(inputs: tf.Tensor, rows?: Int32Array): EncodedImages {
    return tidyObject(() => {
      const features = this.encoder ? this.encoder.encode(inputs as tf.Tensor4D) : (inputs as tf.Tensor3D); // [U, P, D]
      if (features.rank !== 3) throw new Error(`Captioner.encode: expected features [B, P, D], got [${features.shape}]`);
      const encoded = this.decoder.encode(features); // [U, …]
      const identity = !rows || (rows.length === features.shape[0] && rows.every((r, i) => r === i));
      return identity ? encoded : Decoder.gather(encoded, tf.tensor1d(rows, 'int32')); // [B, …]
    });
  }

  /**
   * Teacher forcing over a batch: `encoded` holds the batch's distinct images, one row each in
   * the order of `batch.uniqueImages` (`encode(inputs)`); `batch.imageOf` picks each sorted
   * caption's row. Dropout (rate `dropout`, seeded by `dropoutSeed`) is applied to the
   * stacked hidden states before the output layer; pass rate 0 for validation.
   * `fusedKernels` (default true) runs the whole recurrence as one fused operation
   * (fused-recurrence.ts, issue #16) where the backend allows, else each step's LSTM cell and
   * attention context as the fused wasm kernels of issue #9 (lstm-cell.ts, attention.ts);
   * false is the plain path the project trained with before, kept as the bench's "before"
   * and the reference that test/train/optimised-equivalence.test.ts compares against (same
   * numbers).
   */
  teacherForce(encoded: EncodedImages, batch: TeacherBatch, options: { dropout: number; dropoutSeed?: number; fusedKernels?: boolean }): TeacherForcing {
    return tf.tidy(() => {
      const { B, T, stepSizes, imageOf } = batch;
      const U = batch.uniqueImages.length;
      if (encoded.features.shape[0] !== U) throw new Error(`teacherForce: ${encoded.features.shape[0]} encoded images for a batch of ${U} distinct images`);
      // Once per batch: word vectors of the real positions and their LSTM input projection.
      const inputs = tf.tensor2d(batch.inputs, [T, B], 'int32'); // [T, B]
      const E = this.words.dim;
      const vectors = this.words.embedPrefix(inputs).reshape([T * B, E]); // [T*B, E]
      const real = tf.gather(vectors, tf.tensor1d(batch.realIndex, 'int32')) as tf.Tensor2D; // [N, E]
      const wordGates = this.decoder.projectWords(real); // [N, 4H]
      const G4 = wordGates.shape[1];

      // The recurrence, on the captions still running: fused into one operation where the
      // backend allows (decoder.ts `fusedRecurrence`: it picks each caption's image itself),
      // else one `Decoder.step` per time step on the images repeated per caption.
      const identity = U === B && imageOf.every((u, b) => u === b);
      const pick = (t: tf.Tensor2D) => (identity ? t : (tf.gather(t, tf.tensor1d(imageOf, 'int32')) as tf.Tensor2D)); // [U, …] -> [B, …]
      const initial = this.decoder.initialState(encoded); // [U, H] x 2
      let state = { h: pick(initial.h), c: pick(initial.c) }; // [B, H] x 2
      const fused = (options.fusedKernels ?? true) ? this.decoder.fusedRecurrence(wordGates, encoded, imageOf, state, stepSizes, this.encoder !== null) : null;
      if (fused) return { logits: this.outputLayer(fused.hidden, batch, options), alphaSum: fused.alphaSum };
      encoded = identity ? encoded : Decoder.gather(encoded, tf.tensor1d(imageOf, 'int32')); // [B, …]
      let rows = encoded;
      const hs: tf.Tensor2D[] = [];
      const alphas: tf.Tensor2D[] = [];
      let offset = 0;
      for (let t = 0; t < T; t++) {
        const Bt = stepSizes[t];
        if (Bt !== rows.features.shape[0]) {
          rows = Decoder.rows(encoded, Bt); // [Bt, P, D] …
          const H = state.h.shape[1];
          state = { h: state.h.slice([0, 0], [Bt, H]), c: state.c.slice([0, 0], [Bt, H]) }; // [Bt, H] x 2
        }
        const step = this.decoder.step(wordGates.slice([offset, 0], [Bt, G4]), state, rows, { logits: false, training: options.fusedKernels ?? true });
        state = step.state;
        hs.push(state.h); // [Bt, H]
        alphas.push(Bt === B ? step.alpha : step.alpha.pad([[0, B - Bt], [0, 0]])); // [B, P]
        offset += Bt;
      }

      const alphaSum = (alphas.length === 1 ? alphas[0] : tf.addN(alphas)) as tf.Tensor2D; // [B, P]
      return { logits: this.outputLayer(tf.concat(hs, 0) as tf.Tensor2D, batch, options), alphaSum }; // [N, H] stacked
    });
  }

  /** Once per batch: dropout (masks per caption, dropout.ts) and the output layer over the hidden states of all real positions, [N, H] -> [N, V]. */
  private outputLayer(hidden: tf.Tensor2D, batch: TeacherBatch, options: { dropout: number; dropoutSeed?: number }): tf.Tensor2D {
    return tf.tidy(() => this.decoder.output(captionDropout(hidden, batch, options.dropout, options.dropoutSeed ?? 0))); // [N, V]
  }

  dispose(): void {
    this.encoder?.dispose();
    this.words.dispose();
    this.decoder.dispose();
  }
}
