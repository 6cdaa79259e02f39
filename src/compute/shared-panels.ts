/**
 * One packed copy of the recurrent weights for all data-parallel workers of a run (issue #16).
 *
 * Each worker thread holds the same weights (data-parallel.ts applies the same update in
 * every thread) and, at every time step of its shard, multiplies a few rows by them from
 * their packed panels (native-kernels.ts, src/model/step-products.ts). With a packed copy
 * per thread, two workers stream two copies (about 19 MB each at the `small` shape) through
 * the cache the cores share, and slowed each other more than one copy does. Here the copy
 * lives in shared memory: the first thread to need a weight packs it, the others wait for it
 * and check it holds exactly their own weight (bit for bit, `nativePanelsMatch`) before they
 * use it; a thread whose weight differs (the coordinator evaluating restored weights between
 * steps) packs it again. Threads must not run the recurrence on different weights at the same
 * time, which the data-parallel step guarantees: every thread has finished its backward pass
 * before any applies the update.
 *
 * Shared memory: Int32 header [lock, slots used, then per slot: state, offset, length, key
 * (KEY_INTS ints)], then the floats of the packed weights, one region per key.
 *
 *   const panels = SharedPanels.create(floats);            // the coordinating thread
 *   const same = new SharedPanels(panels.buffer);           // each worker, from workerData
 *   sharePanels(trainer.variables.values(), same);          // StepWeight looks it up by weight
 */
import * as tf from '@tensorflow/tfjs';

import { nativePackPanels, nativePanelsMatch, packedLength, type PackedWeight } from './native-kernels';

const SLOTS = 16;
const KEY_INTS = 16; // a key of up to 64 bytes
const SLOT_INTS = 3 + KEY_INTS;
const HEADER_INTS = 2 + SLOTS * SLOT_INTS;
const [LOCK, USED] = [0, 1];
const [EMPTY, PACKING, READY] = [0, 1, 2];

export class SharedPanels {
  private readonly header: Int32Array;
  private readonly floats: Float32Array;

  /** Shared memory for `capacity` floats of packed weights. */
  static create(capacity: number): SharedPanels {
    return new SharedPanels(new SharedArrayBuffer(HEADER_INTS * 4 + capacity * 4));
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, HEADER_INTS);
    this.floats = new Float32Array(buffer, HEADER_INTS * 4);
  }

  /**
   * `weight` (transposed: its transpose) packed under `key`, from the shared copy where it
   * holds exactly this weight, else packed into it now. Undefined where the native kernels
   * do not run or the shared memory is full: the caller packs into its own buffer then.
   */
  packed(key: string, weight: tf.Tensor2D, transposed: boolean): PackedWeight | undefined {
    const [rows, cols] = weight.shape;
    const [k, n] = transposed ? [cols, rows] : [rows, cols];
    const slot = this.slotOf(key, packedLength(k, n));
    if (slot === undefined) return undefined;
    const state = 2 + slot * SLOT_INTS;
    const panels = this.floats.subarray(this.header[state + 1], this.header[state + 1] + this.header[state + 2]);
    for (;;) {
      const now = Atomics.load(this.header, state);
      if (now === PACKING) {
        Atomics.wait(this.header, state, PACKING); // another thread is packing it
        continue;
      }
      if (now === READY && nativePanelsMatch(weight, transposed, panels)) return { k, n, panels };
      if (Atomics.compareExchange(this.header, state, now, PACKING) !== now) continue;
      const packed = nativePackPanels(weight, transposed, panels);
      Atomics.store(this.header, state, packed ? READY : EMPTY);
      Atomics.notify(this.header, state);
      return packed;
    }
  }

  /** The slot of `key` with `length` floats, claimed on first use; undefined when the slots or floats run out. */
  private slotOf(key: string, length: number): number | undefined {
    const code = encodeKey(key);
    while (Atomics.compareExchange(this.header, LOCK, 0, 1) !== 0) Atomics.wait(this.header, LOCK, 1);
    try {
      const used = this.header[USED];
      for (let slot = 0; slot < used; slot++) {
        const at = 2 + slot * SLOT_INTS;
        if (this.header[at + 2] === length && code.every((c, i) => this.header[at + 3 + i] === c)) return slot;
      }
      const end = used === 0 ? 0 : this.header[2 + (used - 1) * SLOT_INTS + 1] + this.header[2 + (used - 1) * SLOT_INTS + 2];
      if (used === SLOTS || end + length > this.floats.length) return undefined;
      const at = 2 + used * SLOT_INTS;
      this.header.set([EMPTY, end, length, ...code], at);
      this.header[USED] = used + 1;
      return used;
    } finally {
      Atomics.store(this.header, LOCK, 0);
      Atomics.notify(this.header, LOCK);
    }
  }
}

/** A key as KEY_INTS ints (UTF-8, zero-padded). */
function encodeKey(key: string): number[] {
  const bytes = new TextEncoder().encode(key);
  if (bytes.length > KEY_INTS * 4) throw new Error(`SharedPanels: key ${JSON.stringify(key)} is longer than ${KEY_INTS * 4} bytes`);
  const ints = new Int32Array(KEY_INTS);
  new Uint8Array(ints.buffer).set(bytes);
  return Array.from(ints);
}

/** This thread's shared panels by the weights they are shared for. */
const registry = new WeakMap<tf.Variable, SharedPanels>();

/** Shares `panels` for products with any of `weights` in this thread (null: stop sharing). */
export function sharePanels(weights: Iterable<tf.Variable>, panels: SharedPanels | null): void {
  for (const w of weights) {
    if (panels) registry.set(w, panels);
    else registry.delete(w);
  }
}

/** The shared panels for products with `weight` in this thread, if a data-parallel group shares them. */
export function sharedPanelsOf(weight: tf.Variable): SharedPanels | undefined {
  return registry.get(weight);
}
