/**
 * One packed copy of the recurrent weights for all data-parallel workers of a run (issue #16).
 *
 * Each worker thread holds the same weights (data-parallel.ts gives them all one state and
 * then applies the same updates in every thread) and, at every time step of its shard,
 * multiplies a few rows by them from their packed panels (native-kernels.ts,
 * src/model/step-products.ts). With a packed copy per thread, two workers stream two copies
 * (about 19 MB each at the `small` shape) through the cache the cores share, and slowed each
 * other more than one copy does. Here the copy lives in shared memory, labelled with the
 * version of the weights it was packed from: (generation, updates), where the group starts a
 * generation each time it gives all threads one state and counts the updates since. The
 * first thread to need a weight at a version packs it; the others wait for it and use it. A
 * thread whose weights are not the group's (the coordinator after a restore, until the next
 * sync) has no version and packs into its own buffer. Threads use a copy only between
 * updates, which the data-parallel step orders: every thread has finished its backward pass
 * before any applies the update.
 *
 * Shared memory: Int32 header [lock, slots used, generations minted, then per slot: state,
 * offset, length, generation, updates, key (KEY_INTS ints)], then the floats of the packed
 * weights, one region per key.
 *
 *   const panels = SharedPanels.create(floats);                 // the coordinating thread
 *   const same = new SharedPanels(panels.buffer);                // each worker, from workerData
 *   sharePanels(trainer.captioner.variables().values(), { panels: same, version: () => current });
 */
import type * as tf from '@tensorflow/tfjs';

import { nativePackPanels, packedLength, type PackedWeight, type PackSource, sourceShape } from './native-panels';

const SLOTS = 16;
const KEY_INTS = 16; // a key of up to 64 bytes
const SLOT_INTS = 5 + KEY_INTS; // state, offset, length, generation, updates, key
const FIRST_SLOT = 3;
const HEADER_INTS = FIRST_SLOT + SLOTS * SLOT_INTS;
const [LOCK, USED, GENERATIONS] = [0, 1, 2];
const [EMPTY, PACKING, READY] = [0, 1, 2];

/** Which weights a thread holds: the group's generation (1, 2, …) and the updates applied since. */
export interface WeightsVersion {
  generation: number;
  updates: number;
}

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

  /** A generation number no thread of the group has used (1, 2, …). */
  mintGeneration(): number {
    return Atomics.add(this.header, GENERATIONS, 1) + 1;
  }

  /**
   * `weight` (transposed: its transpose) packed under `key` at `version`: the shared copy
   * where it was packed at this version, else packed into it now. The caller's weight must be
   * the one every thread holds at `version`. Undefined where the native kernels do not run or
   * the shared memory is full: the caller packs into its own buffer then.
   */
  packed(key: string, weight: PackSource, transposed: boolean, version: WeightsVersion): PackedWeight | undefined {
    const outcome = this.claimOrWait(key, weight, transposed, version, true);
    return outcome === 'busy' ? undefined : outcome;
  }

  /**
   * Packs each weight that no thread has packed, or is packing, at `version`, and returns at
   * once: threads that arrive together share the packing of a step's weights (each takes those
   * still free) instead of waiting in turn for one thread to pack them all. `packed` then finds them.
   */
  prepack(weights: readonly { key: string; weight: PackSource; transposed: boolean }[], version: WeightsVersion): void {
    for (const { key, weight, transposed } of weights) this.claimOrWait(key, weight, transposed, version, false);
  }

  /** The panels of `key` at `version` (packed now if ours to pack); where another thread is packing them, waits for them, or says 'busy'. */
  private claimOrWait(key: string, weight: PackSource, transposed: boolean, version: WeightsVersion, wait: boolean): PackedWeight | undefined | 'busy' {
    const [rows, cols] = sourceShape(weight);
    const [k, n] = transposed ? [cols, rows] : [rows, cols];
    const slot = this.slotOf(key, packedLength(k, n));
    if (slot === undefined) return undefined;
    const at = FIRST_SLOT + slot * SLOT_INTS; // state, offset, length, generation, updates
    const panels = this.floats.subarray(this.header[at + 1], this.header[at + 1] + this.header[at + 2]);
    for (;;) {
      const state = Atomics.load(this.header, at);
      if (state === PACKING) {
        if (!wait) return 'busy';
        Atomics.wait(this.header, at, PACKING); // another thread is packing it
        continue;
      }
      const current = () => this.header[at + 3] === version.generation && this.header[at + 4] === version.updates;
      if (state === READY && current()) return { k, n, panels };
      if (Atomics.compareExchange(this.header, at, state, PACKING) !== state) continue;
      // Ours to pack, unless another thread packed this version between our two looks at the slot (READY -> PACKING -> READY).
      let outcome = EMPTY;
      try {
        if (state === READY && current()) {
          outcome = READY;
          return { k, n, panels };
        }
        const packed = nativePackPanels(weight, transposed, panels);
        this.header[at + 3] = version.generation;
        this.header[at + 4] = version.updates;
        outcome = packed ? READY : EMPTY;
        return packed;
      } finally {
        Atomics.store(this.header, at, outcome); // publishes the panels and the version with it (EMPTY if packing failed: no thread waits forever)
        Atomics.notify(this.header, at);
      }
    }
  }

  /** The slot of `key` with `length` floats, claimed on first use; undefined when the slots or floats run out. */
  private slotOf(key: string, length: number): number | undefined {
    const code = encodeKey(key);
    while (Atomics.compareExchange(this.header, LOCK, 0, 1) !== 0) Atomics.wait(this.header, LOCK, 1);
    try {
      const used = this.header[USED];
      for (let slot = 0; slot < used; slot++) {
        const at = FIRST_SLOT + slot * SLOT_INTS;
        if (this.header[at + 2] === length && code.every((c, i) => this.header[at + 5 + i] === c)) return slot;
      }
      const last = FIRST_SLOT + (used - 1) * SLOT_INTS;
      const end = used === 0 ? 0 : this.header[last + 1] + this.header[last + 2];
      if (used === SLOTS || end + length > this.floats.length) return undefined;
      const at = FIRST_SLOT + used * SLOT_INTS;
      this.header.set([EMPTY, end, length, 0, 0, ...code], at);
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

/** How a thread shares packed weights: the group's shared memory and the version of the weights it holds now (undefined: not the group's). */
export interface PanelSharing {
  panels: SharedPanels;
  version: () => WeightsVersion | undefined;
}

/** This thread's sharing by the weights it is for. */
const registry = new WeakMap<tf.Variable, PanelSharing>();

/** Shares packed copies of products with any of `weights` in this thread (null: stop sharing). */
export function sharePanels(weights: Iterable<tf.Variable>, sharing: PanelSharing | null): void {
  for (const w of weights) {
    if (sharing) registry.set(w, sharing);
    else registry.delete(w);
  }
}

/** The shared panels and the current version for products with `weight` in this thread, where its weights are a data-parallel group's. */
export function sharedPanelsOf(weight: tf.Variable): { panels: SharedPanels; version: WeightsVersion } | undefined {
  const sharing = registry.get(weight);
  const version = sharing?.version();
  return sharing && version ? { panels: sharing.panels, version } : undefined;
}
