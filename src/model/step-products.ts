/**
 * Host rows times a decoder weight, at every time step of a batch (fused-recurrence.ts): the
 * LSTM's recurrent products forward ([B_t, H] x [H, 4H + A + G], [B_t, D] x [D, 4H]) and
 * backward (x W_rec^T, x W_hp^T), a few rows each (B_t <= the batch) against a weight that
 * stays the same for the whole batch.
 *
 * Where the native kernels run, the weight is packed once per batch and each product is one
 * native call on the host arrays (native/heap-kernels/panels.c): no tensors made or read
 * back, and no repacking of the weight per call, which OpenBLAS does and which, at 16-32
 * rows, costs about what the product does. Data-parallel workers share one packed copy
 * (compute/shared-panels.ts). Elsewhere each product is a matMul on the backend.
 *
 *   const w = new StepWeight(wRec, true, buffers);  // B = W_rec^T, packed into buffers
 *   const dx = w.times(dGates, Bt, 'dx');          // [B_t, 4H] x [4H, D + H] -> [B_t, D + H]
 */
import * as tf from '@tensorflow/tfjs';

import { nativeKernelsAvailable } from '../compute/native-kernels';
import { nativePackPanels, nativePanelMatMul, packedLength, type PackedWeight, type PackSource, sideBySideTensor, sourceShape } from '../compute/native-panels';
import type { SharedPanels, WeightsVersion } from '../compute/shared-panels';
import { copyValuesInto } from '../compute/tensor-values';

/** Reusable host buffers by name (fused-recurrence.ts's scratch). */
export interface HostBuffers {
  get(name: string, length: number): Float32Array;
}

/** A weight [rows, cols] (or its transpose) that multiplies host rows at every step of a batch. */
export class StepWeight {
  private readonly packed: PackedWeight | undefined;
  /** The weight as one tensor, for the products on the backend (where nothing is packed). */
  private readonly weight: tf.Tensor2D | undefined;
  /** Output columns. */
  readonly n: number;

  /**
   * `transposed`: products with the weight's transpose [cols, rows]. `name` names the
   * packed weight in `buffers` (one per weight of a batch), or in `shared`, the packed
   * copy that data-parallel workers share (shared-panels.ts) at the version of the weights.
   * `source` may be blocks of weights side by side, packed where they lie.
   */
  constructor(
    source: PackSource,
    private readonly transposed: boolean,
    private readonly buffers: HostBuffers,
    name: string,
    shared?: { panels: SharedPanels; version: WeightsVersion },
  ) {
    const [rows, cols] = sourceShape(source);
    const [k, n] = transposed ? [cols, rows] : [rows, cols];
    this.n = n;
    if (nativeKernelsAvailable()) this.packed = shared?.panels.packed(name, source, transposed, shared.version) ?? nativePackPanels(source, transposed, buffers.get(`packed ${name}`, packedLength(k, n)));
    if (!this.packed) this.weight = source instanceof tf.Tensor ? source : sideBySideTensor(source); // products on the backend (the caller's scope disposes the copy)
  }

  /** x [rows, K] (host) times the weight: [rows, N], in buffer `name`. */
  times(x: Float32Array, rows: number, name: string): Float32Array {
    const out = this.buffers.get(name, rows * this.n);
    if (this.packed) return nativePanelMatMul(x, rows, this.packed, out);
    const weight = this.weight!;
    const k = this.transposed ? weight.shape[1] : weight.shape[0];
    const input = tf.tensor2d(x.subarray(0, rows * k), [rows, k]);
    const product = tf.matMul(input, weight, false, this.transposed); // [rows, N]
    copyValuesInto(product, out); // not through tf.tidy: it would walk every number of the array it returns
    tf.dispose([input, product]);
    return out;
  }
}
