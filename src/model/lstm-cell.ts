/**
 * The LSTM cell's element-wise part, from the four gate pre-activations to the new state:
 *
 *   [i f g o] = gates                                   [B, 4H], in this order
 *   c_t = s(f) c_{t-1} + s(i) tanh(g)                    [B, H]
 *   h_t = s(o) tanh(c_t)                                 [B, H]
 *
 * Written with tfjs ops that is a split, four activations, three products and a sum in the
 * forward pass and about twenty kernels in the backward pass, at every time step; on the
 * wasm backend the cost is the number of kernels more than their arithmetic (FACTS.md §4,
 * src/model/README.md). So in teacher forcing, where the backend has the fused kernel `CaptioningLstmCell`
 * (src/compute/wasm-fused-kernels.ts registers it for wasm), the whole cell is one kernel
 * forward and one backward (`CaptioningLstmCellGrad`, below). Elsewhere, or with the speedups
 * switched off, the plain ops run. Both compute the same numbers (test/compute/lstm-cell.test.ts).
 */
import * as tf from '@tensorflow/tfjs';

import { LSTM_CELL, LSTM_CELL_GRAD } from '../compute/wasm-fused-kernels';
import { wasmSpeedupsEnabled } from '../compute/wasm-speedups';

/**
 * The new state from gates [B, 4H] and c_{t-1} [B, H]. `fused` (teacher forcing, under a
 * gradient tape) picks the fused kernel; decoding leaves it off, as without a tape the
 * plain ops are as fast (the kernel is a JS loop over the wasm heap).
 */
export function lstmCell(gates: tf.Tensor2D, c: tf.Tensor2D, fused = false): { h: tf.Tensor2D; c: tf.Tensor2D } {
  const [B, G4] = gates.shape;
  if (G4 % 4 !== 0 || c.shape[0] !== B || c.shape[1] !== G4 / 4) {
    throw new Error(`lstmCell: gates must be [B, 4H] and c [B, H], got [${gates.shape}] and [${c.shape}]`);
  }
  if (fused && wasmSpeedupsEnabled() && tf.getKernel(LSTM_CELL, tf.getBackend())) {
    const [h, cNext] = tf.engine().runKernel(LSTM_CELL, { gates, c }, {}) as tf.Tensor2D[]; // [B, H] x 2
    return { h, c: cNext };
  }
  return plainLstmCell(gates, c);
}

/** The same cell with tfjs ops (the reference; any backend). */
export function plainLstmCell(gates: tf.Tensor2D, c: tf.Tensor2D): { h: tf.Tensor2D; c: tf.Tensor2D } {
  return tf.tidy(() => {
    const [i, f, g, o] = tf.split(gates, 4, 1); // [B, H] each
    const cNext = tf.sigmoid(f).mul(c).add(tf.sigmoid(i).mul(tf.tanh(g))) as tf.Tensor2D; // [B, H]
    const h = tf.sigmoid(o).mul(tf.tanh(cNext)) as tf.Tensor2D; // [B, H]
    return { h, c: cNext };
  });
}

// The fused kernel's gradient (any backend that registers both kernels): saved are the
// inputs (gates, c_{t-1}) and the output c_t; the grad kernel returns d gates and d c_{t-1}.
tf.registerGradient({
  kernelName: LSTM_CELL,
  inputsToSave: ['gates', 'c'],
  outputsToSave: [false, true],
  gradFunc: (dy, saved) => {
    const [dh, dc] = dy as tf.Tensor[]; // [B, H] x 2 (zeros where an output was not used)
    const [gates, cPrev, cNext] = saved; // [B, 4H], [B, H], [B, H]
    const [dGates, dcPrev] = tf.engine().runKernel(LSTM_CELL_GRAD, { gates, c: cPrev, cNext, dh, dc }, {}) as tf.Tensor[];
    return { gates: () => dGates, c: () => dcPrev };
  },
});
