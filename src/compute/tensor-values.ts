/**
 * Reading a tensor's values into an array the caller owns. On the wasm backend the values
 * are copied straight from the wasm heap; `dataSync()` would first copy them into a new
 * array, and at training's rate (every gradient, every step) those arrays become the
 * garbage that keeps V8's collector threads busy on the cores the training needs (issue #16).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Copies float32 tensor `t`'s values into `target` from `offset` on. */
export function copyValuesInto(t: tf.Tensor, target: Float32Array, offset = 0): void {
  if (t.dtype !== 'float32') throw new Error(`copyValuesInto: expected a float32 tensor, got ${t.dtype}`);
  if (offset + t.size > target.length) throw new Error(`copyValuesInto: ${t.size} values from ${offset} do not fit an array of ${target.length}`);
  const backend = tf.backend();
  if (tf.getBackend() === 'wasm') {
    // A view of the heap, used at once: nothing runs in between that could grow (and replace) the heap.
    target.set((backend as BackendWasm).typedArrayFromHeap(t) as Float32Array, offset);
  } else {
    target.set(t.dataSync() as Float32Array, offset);
  }
}
