/**
 * Kernels that let tfjs's wasm backend train our models, registered once at start-up
 * (src/compute/backend.ts calls installWasmTraining after loading the wasm backend).
 *
 * Out of the box (tfjs 4.22) the wasm backend cannot run backpropagation through an
 * embedding or a convolution, and its matMul with a transposed operand is ten times slower
 * than the plain one (FACTS.md §4). What is registered, in this order:
 *
 * - wasm-missing-kernels.ts: `UnsortedSegmentSum` (the gradient of `gather`) and
 *   `Conv2DBackpropFilter` (the filter gradient of `conv2d`), where wasm has none;
 * - wasm-kernel-patches.ts: `BatchMatMul` with explicit transposes, and (issue #9) a shared
 *   `Identity` and transposed right operands kept with their source;
 * - wasm-fused-kernels.ts (issue #9): the fused LSTM cell and attention context with their
 *   gradients, used by src/model/lstm-cell.ts and attention.ts.
 *
 * The speedups of issue #9 change no result and can be switched off (wasm-speedups.ts,
 * `setWasmSpeedups`, which the bench's "before" column does). Each kernel is checked against
 * the cpu backend in test/compute/wasm-training.test.ts and test/compute/fused-kernels.test.ts.
 */
import * as tf from '@tensorflow/tfjs';

import { registerFusedKernels } from './wasm-fused-kernels';
import { patchStockKernels } from './wasm-kernel-patches';
import { BACKEND } from './wasm-kernel-util';
import { registerMissingKernels } from './wasm-missing-kernels';

let installed: string[] | undefined;

/**
 * Registers the training kernels for the wasm backend (idempotent) and returns their names.
 * Call after the wasm backend is registered (importing @tensorflow/tfjs-backend-wasm).
 */
export function installWasmTraining(): string[] {
  if (installed) return installed;
  const registered = new Set(tf.getKernelsForBackend(BACKEND).map((k) => k.kernelName));
  if (registered.size === 0) throw new Error('installWasmTraining: the wasm backend is not registered');
  installed = [...registerMissingKernels(registered), ...patchStockKernels(), ...registerFusedKernels()];
  return installed;
}
