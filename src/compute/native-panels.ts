/**
 * Products of a few host rows with a weight packed once (native/heap-kernels/panels.c): the
 * recurrent products of teacher forcing's time loop (src/model/step-products.ts), each step's
 * 16-32 rows times the same LSTM weights. OpenBLAS repacks its right operand on every call, a
 * pass over the whole weight that costs about what such a product does; here the weight is
 * packed once per batch into panels of 16 columns and every product reads them straight
 * through. Data-parallel workers share one packed copy (shared-panels.ts).
 * test/compute/native-panels.test.ts checks the products against the cpu backend's matMul.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';

import { enabledAddon } from './native-kernels';

/** Columns per panel of a packed weight (native/heap-kernels/panels.c). */
const PANEL = 16;

/** A weight B [k, n] packed for {@link nativePanelMatMul}: its columns 16 at a time, [ceil(n / 16), k, 16]. */
export interface PackedWeight {
  k: number;
  n: number;
  panels: Float32Array;
}

/** Floats that a weight B [k, n] takes packed. */
export function packedLength(k: number, n: number): number {
  return Math.ceil(n / PANEL) * PANEL * k;
}

/**
 * A weight [rows, Σ cols] given as row ranges of tensors side by side (rows `firstRow`.. of
 * each), packed where they lie: no concatenated copy is made (the LSTM's recurrent rows of
 * W_rec beside W_hp, src/model/fused-recurrence.ts).
 */
export interface SideBySide {
  rows: number;
  blocks: readonly { weight: tf.Tensor2D; firstRow: number }[];
}

/** What {@link nativePackPanels} packs: a weight, or blocks of weights side by side. */
export type PackSource = tf.Tensor2D | SideBySide;

/** [rows, cols] of a weight to pack. */
export function sourceShape(source: PackSource): [number, number] {
  if (source instanceof tf.Tensor) return source.shape;
  return [source.rows, source.blocks.reduce((cols, b) => cols + b.weight.shape[1], 0)];
}

/** The blocks side by side as one tensor (a copy; for the products on the backend). */
export function sideBySideTensor(source: SideBySide): tf.Tensor2D {
  return tf.tidy(() => tf.concat(source.blocks.map((b) => b.weight.slice([b.firstRow, 0], [source.rows, b.weight.shape[1]])), 1) as tf.Tensor2D);
}

/**
 * Packs weight [rows, cols] (transposed: its transpose [cols, rows]) as the right operand of
 * {@link nativePanelMatMul}, into `panels` (at least {@link packedLength} floats, reused from
 * batch to batch by the caller). Blocks side by side (not transposed) pack one by one, each
 * into the panels of its columns, where every block but the last fills whole panels (else
 * through a concatenated copy). Undefined where the native kernels do not run.
 */
export function nativePackPanels(source: PackSource, transposed: boolean, panels: Float32Array): PackedWeight | undefined {
  const addon = enabledAddon();
  if (!addon) return undefined;
  const [rows, cols] = sourceShape(source);
  const [k, n] = transposed ? [cols, rows] : [rows, cols];
  if (source instanceof tf.Tensor) {
    addon.packPanels(hostValues(source, 'packPanels'), rows, cols, transposed, panels);
    return { k, n, panels };
  }
  const aligned = source.blocks.every((b, i) => i === source.blocks.length - 1 || b.weight.shape[1] % PANEL === 0);
  if (transposed || !aligned) {
    const whole = sideBySideTensor(source);
    try {
      return nativePackPanels(whole, transposed, panels);
    } finally {
      whole.dispose();
    }
  }
  if (panels.length < packedLength(k, n)) throw new RangeError(`packPanels: panels holds ${panels.length} floats, needs ${packedLength(k, n)}`);
  let column = 0;
  for (const { weight, firstRow } of source.blocks) {
    const [weightRows, width] = weight.shape;
    if (!Number.isInteger(firstRow) || firstRow < 0 || firstRow + rows > weightRows) throw new RangeError(`packPanels: rows ${firstRow}..${firstRow + rows} are not all in a weight of ${weightRows} rows`);
    const values = hostValues(weight, 'packPanels').subarray(firstRow * width, (firstRow + rows) * width);
    addon.packPanels(values, rows, width, false, panels.subarray(column * rows)); // the panels of columns column.. start at column x rows
    column += width;
  }
  return { k, n, panels };
}

/** A float32 tensor's values for a native call: a view of the wasm heap (used at once), else a copy. */
function hostValues(t: tf.Tensor, kernel: string): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`${kernel}: expected a float32 weight, got ${t.dtype}`);
  return tf.getBackend() === 'wasm' ? ((tf.backend() as BackendWasm).typedArrayFromHeap(t) as Float32Array) : (t.dataSync() as Float32Array);
}

/** out [rows, n] = x [rows, k] B [k, n] for host arrays x and out and a weight packed by {@link nativePackPanels}; returns out's first rows x n floats. */
export function nativePanelMatMul(x: Float32Array, rows: number, weight: PackedWeight, out: Float32Array): Float32Array {
  enabledAddon()!.panelMatMul(x, rows, weight.k, weight.panels, weight.n, out);
  return out.subarray(0, rows * weight.n);
}
