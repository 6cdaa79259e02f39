/**
 * Fused kernels for the wasm backend (a speedup of issue #9, see wasm-speedups.ts): the
 * LSTM cell's element-wise part and the attention context, each with its gradient, as
 * plain loops over the wasm heap. src/model/lstm-cell.ts and attention.ts define the ops
 * and their gradients on these kernel names, and use them while the speedups are on.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { BACKEND, type KernelFunc, type TensorInfo } from './wasm-kernel-util';

/** Names of the fused LSTM cell kernels (src/model/lstm-cell.ts defines the op and its gradient). */
export const LSTM_CELL = 'CaptioningLstmCell';
export const LSTM_CELL_GRAD = 'CaptioningLstmCellGrad';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * The LSTM cell's element-wise part in one pass: gates [B, 4H] (i f g o) and c [B, H] ->
 * h [B, H] and the new c [B, H]; see src/model/lstm-cell.ts.
 */
const lstmCellKernel: KernelFunc = ({ inputs, backend }) => {
  const wasm = backend as BackendWasm;
  const gates = inputs.gates as TensorInfo; // [B, 4H]
  const cPrev = inputs.c as TensorInfo; // [B, H]
  const [B, G4] = gates.shape;
  const H = G4 / 4;
  // Allocate first: growing the heap detaches typed-array views taken before.
  const hOut = wasm.makeOutput([B, H], 'float32'); // [B, H]
  const cOut = wasm.makeOutput([B, H], 'float32'); // [B, H]
  const g = wasm.typedArrayFromHeap(gates);
  const cp = wasm.typedArrayFromHeap(cPrev);
  const h = wasm.typedArrayFromHeap(hOut);
  const c = wasm.typedArrayFromHeap(cOut);
  for (let b = 0; b < B; b++) {
    const row = b * G4;
    for (let j = 0; j < H; j++) {
      const k = b * H + j;
      const cNext = sigmoid(g[row + H + j]) * cp[k] + sigmoid(g[row + j]) * Math.tanh(g[row + 2 * H + j]);
      c[k] = cNext;
      h[k] = sigmoid(g[row + 3 * H + j]) * Math.tanh(cNext);
    }
  }
  return [hOut, cOut];
};

/**
 * Its gradient in one pass: gates [B, 4H], c_{t-1} and c_t [B, H], dh and dc [B, H] ->
 * d gates [B, 4H] and d c_{t-1} [B, H].
 *
 *   dc  = dc_in + dh s(o) (1 - tanh(c_t)^2)
 *   d i = dc tanh(g) s(i)(1 - s(i));   d f = dc c_{t-1} s(f)(1 - s(f))
 *   d g = dc s(i) (1 - tanh(g)^2);     d o = dh tanh(c_t) s(o)(1 - s(o));   d c_{t-1} = dc s(f)
 */
const lstmCellGradKernel: KernelFunc = ({ inputs, backend }) => {
  const wasm = backend as BackendWasm;
  const gates = inputs.gates as TensorInfo; // [B, 4H]
  const [B, G4] = gates.shape;
  const H = G4 / 4;
  const dGatesOut = wasm.makeOutput([B, G4], 'float32'); // [B, 4H]
  const dcPrevOut = wasm.makeOutput([B, H], 'float32'); // [B, H]
  const g = wasm.typedArrayFromHeap(gates);
  const cp = wasm.typedArrayFromHeap(inputs.c as TensorInfo);
  const cn = wasm.typedArrayFromHeap(inputs.cNext as TensorInfo);
  const dh = wasm.typedArrayFromHeap(inputs.dh as TensorInfo);
  const dcIn = wasm.typedArrayFromHeap(inputs.dc as TensorInfo);
  const dGates = wasm.typedArrayFromHeap(dGatesOut);
  const dcPrev = wasm.typedArrayFromHeap(dcPrevOut);
  for (let b = 0; b < B; b++) {
    const row = b * G4;
    for (let j = 0; j < H; j++) {
      const k = b * H + j;
      const i = sigmoid(g[row + j]);
      const f = sigmoid(g[row + H + j]);
      const gg = Math.tanh(g[row + 2 * H + j]);
      const o = sigmoid(g[row + 3 * H + j]);
      const tc = Math.tanh(cn[k]);
      const dc = dcIn[k] + dh[k] * o * (1 - tc * tc);
      dGates[row + j] = dc * gg * i * (1 - i);
      dGates[row + H + j] = dc * cp[k] * f * (1 - f);
      dGates[row + 2 * H + j] = dc * i * (1 - gg * gg);
      dGates[row + 3 * H + j] = dh[k] * tc * o * (1 - o);
      dcPrev[k] = dc * f;
    }
  }
  return [dGatesOut, dcPrevOut];
};

/** Names of the fused weighted-sum kernels (src/model/attention.ts defines the op and its gradient). */
export const WEIGHTED_SUM = 'CaptioningWeightedSum';
export const WEIGHTED_SUM_GRAD_ALPHA = 'CaptioningWeightedSumGradAlpha';

/**
 * The attention's context in one pass: alpha [B, P], features [B, P, D] ->
 * z[b, d] = sum_p alpha[b, p] features[b, p, d], [B, D]. Composed of tfjs ops this is a
 * product [B, P, D], a transpose and a sum, and the sum's gradient keeps the product alive
 * until the backward pass: at the paper's shape 51 MB per step, which is what overflowed
 * the 4 GiB wasm heap.
 */
const weightedSumKernel: KernelFunc = ({ inputs, backend }) => {
  const wasm = backend as BackendWasm;
  const alphaInfo = inputs.alpha as TensorInfo; // [B, P]
  const featuresInfo = inputs.features as TensorInfo; // [B, P, D]
  const [B, P, D] = featuresInfo.shape;
  const out = wasm.makeOutput([B, D], 'float32'); // [B, D]
  const alpha = wasm.typedArrayFromHeap(alphaInfo);
  const features = wasm.typedArrayFromHeap(featuresInfo);
  const z = wasm.typedArrayFromHeap(out);
  z.fill(0);
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < P; p++) {
      const a = alpha[b * P + p];
      const row = (b * P + p) * D;
      for (let d = 0; d < D; d++) z[b * D + d] += a * features[row + d];
    }
  }
  return out;
};

/** The weighted sum's gradient for alpha: dz [B, D], features [B, P, D] -> d alpha[b, p] = sum_d dz[b, d] features[b, p, d]. */
const weightedSumGradAlphaKernel: KernelFunc = ({ inputs, backend }) => {
  const wasm = backend as BackendWasm;
  const dzInfo = inputs.dz as TensorInfo; // [B, D]
  const featuresInfo = inputs.features as TensorInfo; // [B, P, D]
  const [B, P, D] = featuresInfo.shape;
  const out = wasm.makeOutput([B, P], 'float32'); // [B, P]
  const dz = wasm.typedArrayFromHeap(dzInfo);
  const features = wasm.typedArrayFromHeap(featuresInfo);
  const dAlpha = wasm.typedArrayFromHeap(out);
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < P; p++) {
      const row = (b * P + p) * D;
      let sum = 0;
      for (let d = 0; d < D; d++) sum += dz[b * D + d] * features[row + d];
      dAlpha[b * P + p] = sum;
    }
  }
  return out;
};

/** Registers the fused kernels above for the wasm backend; returns their names. */
export function registerFusedKernels(): string[] {
  const names: string[] = [];
  for (const [kernelName, kernelFunc] of [
    [LSTM_CELL, lstmCellKernel],
    [LSTM_CELL_GRAD, lstmCellGradKernel],
    [WEIGHTED_SUM, weightedSumKernel],
    [WEIGHTED_SUM_GRAD_ALPHA, weightedSumGradAlphaKernel],
  ] as const) {
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
    names.push(kernelName);
  }
  return names;
}
