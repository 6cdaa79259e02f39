/**
 * Teacher forcing, the plain way: the reference implementation that the optimised
 * `Captioner.teacherForce` (captioner.ts) must match, and the "before" column of
 * `npm run bench`.
 *
 * Dimensions: B captions (sorted by length, longest first), T steps, P regions, D feature
 * size, E word-vector size, H hidden size, V vocabulary size, N real tokens of the batch.
 *
 * Every step goes through `Decoder.step`, the one step function that greedy and beam search
 * use too, on the B_t captions still running; the word vectors and their LSTM input
 * projection are computed once for the N real positions; dropout and the output layer run
 * once on the stacked hidden states. It is what the project trained with before issue #9.
 * The optimised path computes the same numbers (test/train/optimised-equivalence.test.ts).
 */
import * as tf from '@tensorflow/tfjs';

import type { Captioner, TeacherBatch, TeacherForcing } from './captioner';
import { Decoder, type EncodedImages } from './decoder';

/**
 * Teacher forcing over a batch whose `encoded` rows are already in the batch's sorted order
 * (`batch.order`); returns the logits of the N real positions [N, V] and the per-caption
 * sum of the attention weights [B, P].
 */
export function referenceTeacherForce(
  captioner: Captioner,
  encoded: EncodedImages,
  batch: TeacherBatch,
  options: { dropout: number; dropoutSeed?: number },
): TeacherForcing {
  return tf.tidy(() => {
    const { B, T, stepSizes } = batch;
    const decoder = captioner.decoder;
    if (encoded.features.shape[0] !== B) throw new Error(`referenceTeacherForce: ${encoded.features.shape[0]} encoded images for ${B} captions`);
    // Once per batch: word vectors of the real positions and their LSTM input projection.
    const inputs = tf.tensor2d(batch.inputs, [T, B], 'int32'); // [T, B]
    const E = captioner.words.dim;
    const vectors = captioner.words.embedPrefix(inputs).reshape([T * B, E]); // [T*B, E]
    const real = tf.gather(vectors, tf.tensor1d(batch.realIndex, 'int32')) as tf.Tensor2D; // [N, E]
    const wordGates = decoder.projectWords(real); // [N, 4H]
    const G4 = wordGates.shape[1];

    // The recurrence, on the captions still running.
    let state = decoder.initialState(encoded); // [B, H] x 2
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
      const step = decoder.step(wordGates.slice([offset, 0], [Bt, G4]), state, rows, { logits: false });
      state = step.state;
      hs.push(state.h); // [Bt, H]
      alphas.push(Bt === B ? step.alpha : step.alpha.pad([[0, B - Bt], [0, 0]])); // [B, P]
      offset += Bt;
    }

    // Once per batch: dropout and the output layer over all real positions.
    let hidden = tf.concat(hs, 0) as tf.Tensor2D; // [N, H]
    if (options.dropout > 0) hidden = tf.dropout(hidden, options.dropout, undefined, options.dropoutSeed) as tf.Tensor2D;
    const logits = decoder.output(hidden); // [N, V]
    const alphaSum = (alphas.length === 1 ? alphas[0] : tf.addN(alphas)) as tf.Tensor2D; // [B, P]
    return { logits, alphaSum };
  });
}
