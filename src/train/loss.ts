/**
 * The one loss of training and validation (teacher forcing), as Xu et al. and the
 * reference code:
 *
 *   loss = CE + alpha_c * DS
 *   CE   = mean over the N real target tokens of -log p(target)        (no padding term)
 *   DS   = mean over captions of sum over regions of (1 - sum_t alpha_ti)^2      ('sum', the paper's eq. 14)
 *          or the mean over captions and regions                                  ('mean', the reference code)
 *
 * sum_t runs over each caption's real steps only. With mean-context decoding (no attention)
 * the DS term is 0. Validation calls the same function with dropout 0.
 */
import * as tf from '@tensorflow/tfjs';

import { type Captioner, type TeacherBatch } from '../model/captioner';
import type { AttentionPenaltyReduction } from '../config';

/** Which teacher forcing computes the logits: the optimised one (default) or the plain reference; same numbers. */
export type TeacherForcingImplementation = 'optimised' | 'reference';
export const TEACHER_FORCING_IMPLEMENTATIONS: readonly TeacherForcingImplementation[] = ['optimised', 'reference'];

/** How the doubly stochastic term reduces over regions. */

export interface LossOptions {
  /** Weight of the doubly stochastic attention term. */
  alphaC: number;
  attentionPenalty: AttentionPenaltyReduction;
  /** Dropout before the output layer (0 for validation). */
  dropout: number;
  dropoutSeed?: number;
  /** Default 'optimised'; 'reference' is Captioner.teacherForce without the fused kernels (the code before issue #9). */
  implementation?: TeacherForcingImplementation;
  /**
   * The counts the means divide by, when this batch is one shard of a larger one
   * (data-parallel training): the whole batch's real tokens and captions. The shards' losses
   * and gradients then add up to the whole batch's. Default: this batch's own N and B.
   */
  normalization?: { tokens: number; captions: number };
}

export interface LossParts {
  loss: tf.Scalar;
  crossEntropy: tf.Scalar;
  attention: tf.Scalar;
  /** [N, V], the logits of the real positions in the batch's step order. */
  logits: tf.Tensor2D;
}

/**
 * Teacher-forced loss of a batch. `inputs` are the encoder inputs (pixels or features) of
 * the batch's distinct images, in the order of `batch.uniqueImages`.
 */
export function captionLoss(captioner: Captioner, inputs: tf.Tensor, batch: TeacherBatch, options: LossOptions): LossParts {
  return tf.tidy(() => {
    if (inputs.shape[0] !== batch.uniqueImages.length) throw new Error(`captionLoss: inputs of ${inputs.shape[0]} images for a batch of ${batch.uniqueImages.length} distinct images`);
    const encoded = captioner.encode(inputs); // [U, P, …]: once per distinct image; teacherForce picks them per caption
    const forcing = { dropout: options.dropout, ...(options.dropoutSeed !== undefined ? { dropoutSeed: options.dropoutSeed } : {}) };
    const implementation = options.implementation ?? 'optimised';
    const { logits, alphaSum } = captioner.teacherForce(encoded, batch, { ...forcing, fusedKernels: implementation === 'optimised' }); // [N, V], [B, P]
    const [N, V] = logits.shape;
    // Cross-entropy over the real tokens: pick -log p(target) from the flattened [N * V] log-probabilities.
    const logp = tf.logSoftmax(logits).reshape([N * V]); // [N*V]
    const picks = new Int32Array(N);
    for (let n = 0; n < N; n++) picks[n] = n * V + batch.targets[n];
    const { tokens, captions } = options.normalization ?? { tokens: N, captions: batch.B };
    const crossEntropy = tf.gather(logp, tf.tensor1d(picks, 'int32')).sum().div(-tokens) as tf.Scalar; // []
    let attention = tf.scalar(0);
    if (captioner.decoder.options.context === 'soft-attention' && options.alphaC !== 0) {
      const gap = tf.scalar(1).sub(alphaSum).square(); // [B, P]
      const regions = options.attentionPenalty === 'sum' ? 1 : (gap.shape[1] as number); // 'sum': summed over regions; 'mean': averaged over them too
      attention = gap.sum().div(captions * regions) as tf.Scalar; // []
    }
    const loss = crossEntropy.add(attention.mul(options.alphaC)) as tf.Scalar;
    return { loss, crossEntropy, attention, logits };
  });
}
