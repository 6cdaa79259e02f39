/**
 * Soft attention over image regions (Xu et al. 2015, eq. 4-6; Bahdanau-style additive):
 *
 *   e_ti    = v^T act(W_enc a_i + W_dec h_{t-1})       act: tanh (paper) or ReLU (reference code)
 *   alpha_t = softmax_i(e_ti)                            [B, P]
 *   z_t     = sum_i alpha_ti a_i                         [B, D]
 *
 * Dimensions: B images, P regions, D feature size, A attention size.
 * `W_enc a` does not depend on the recurrence: it is computed once per batch
 * (`projectFeatures`), and each step adds the projected hidden state to it. `W_dec h` is
 * computed by the decoder in the same matMul as the context gate (decoder.ts), so this
 * module takes it ready-made. Only 2-D matMuls are used (FACTS.md §4: batched matMuls are
 * slow on wasm), with reshapes around them.
 */
import * as tf from '@tensorflow/tfjs';

import { WEIGHTED_SUM, WEIGHTED_SUM_GRAD_ALPHA } from '../compute/wasm-fused-kernels';
import { wasmSpeedupsEnabled } from '../compute/wasm-speedups';
import type { AttentionActivation } from '../config';


/** The attention's weights. */
export interface AttentionWeights {
  /** W_enc [D, A] and its bias [A] (the reference code's two Linear biases, merged: they only ever add). */
  encoder: tf.Variable; // [D, A]
  bias: tf.Variable; // [A]
  /** v [A, 1] (the bias of the reference code's `full_att` cancels in the softmax and is left out). */
  score: tf.Variable; // [A, 1]
}

/** W_enc a + b for every region, once per batch: features [B, P, D] -> [B, P, A]. */
export function projectFeatures(weights: AttentionWeights, features: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, P, D] = features.shape;
    const A = weights.encoder.shape[1] as number;
    return features.reshape([B * P, D]).matMul(weights.encoder as tf.Tensor2D).add(weights.bias).reshape([B, P, A]) as tf.Tensor3D; // [B, P, A]
  });
}

/**
 * One attention step: projected features [B, P, A], projected hidden state W_dec h [B, A],
 * features [B, P, D] -> alpha [B, P] and context z [B, D].
 */
export function attend(
  weights: AttentionWeights,
  activation: AttentionActivation,
  projected: tf.Tensor3D,
  hiddenProjected: tf.Tensor2D,
  features: tf.Tensor3D,
  fused = false,
): { alpha: tf.Tensor2D; context: tf.Tensor2D } {
  return tf.tidy(() => {
    const [B, P, A] = projected.shape;
    const pre = projected.add(hiddenProjected.reshape([B, 1, A])); // [B, P, A]
    const act = activation === 'tanh' ? tf.tanh(pre) : tf.relu(pre); // [B, P, A]
    const scores = act.reshape([B * P, A]).matMul(weights.score as tf.Tensor2D).reshape([B, P]); // [B, P]
    const alpha = tf.softmax(scores) as tf.Tensor2D; // [B, P]
    const context = weightedSum(alpha, features, fused); // [B, D]
    return { alpha, context };
  });
}

/**
 * sum_i alpha_bi a_bi: alpha [B, P], features [B, P, D] -> [B, D], without a batched matMul.
 * With `fused` (teacher forcing: under a gradient tape), one fused kernel where the backend
 * has it (src/compute/wasm-fused-kernels.ts registers it for wasm; its gradient is registered
 * below): fewer kernels, and no [B, P, D] product kept for the backward pass. Decoding
 * leaves it off: without a tape the plain ops are as fast (the kernel is a JS loop).
 * The same numbers either way.
 */
export function weightedSum(alpha: tf.Tensor2D, features: tf.Tensor3D, fused = false): tf.Tensor2D {
  const [B, P] = alpha.shape;
  if (features.shape[0] !== B || features.shape[1] !== P) throw new Error(`weightedSum: alpha [${alpha.shape}] and features [${features.shape}] must share B and P`);
  if (fused && wasmSpeedupsEnabled() && tf.getKernel(WEIGHTED_SUM, tf.getBackend())) {
    return tf.engine().runKernel(WEIGHTED_SUM, { alpha, features }, {}) as tf.Tensor2D; // [B, D]
  }
  return tf.tidy(() => alpha.reshape([B, P, 1]).mul(features).sum(1) as tf.Tensor2D); // [B, D]
}

// The fused kernel's gradient. d alpha is a fused kernel too; d features (needed only when
// a CNN is trained with the decoder) is an outer product in tfjs ops, computed only then.
tf.registerGradient({
  kernelName: WEIGHTED_SUM,
  inputsToSave: ['alpha', 'features'],
  gradFunc: (dy, saved) => {
    const dz = dy as tf.Tensor2D; // [B, D]
    const [alpha, features] = saved as [tf.Tensor2D, tf.Tensor3D]; // [B, P], [B, P, D]
    const [B, P, D] = features.shape;
    return {
      alpha: () => tf.engine().runKernel(WEIGHTED_SUM_GRAD_ALPHA, { dz, features }, {}) as tf.Tensor2D, // [B, P]
      features: () => alpha.reshape([B, P, 1]).mul(dz.reshape([B, 1, D])), // [B, P, D]
    };
  },
});
