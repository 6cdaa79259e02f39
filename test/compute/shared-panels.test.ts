// The packed weights data-parallel workers share (src/compute/shared-panels.ts): a copy is used
// again at the version of the weights it was packed at, packed again at another version, and a
// full shared memory leaves the caller to pack on its own. Two threads sharing one copy while
// they train are checked by test/train/data-parallel.test.ts (W = 1 vs 2, and a restore).
import { strict as assert } from 'node:assert';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';
import { nativeKernelsAvailable } from '../../src/compute/native-kernels';
import { nativePackPanels, nativePanelMatMul, packedLength } from '../../src/compute/native-panels';
import { SharedPanels, sharedPanelsOf, sharePanels } from '../../src/compute/shared-panels';

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** What the product x [3, 20] x weight^T gives with panels packed privately. */
function privateProduct(weight: tf.Tensor2D, x: Float32Array): Float32Array {
  const packed = nativePackPanels(weight, true, new Float32Array(packedLength(20, 12)))!;
  return Float32Array.from(nativePanelMatMul(x, 3, packed, new Float32Array(3 * 12)));
}

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
  assert.ok(nativeKernelsAvailable());
});

describe('SharedPanels', () => {
  test('a weight packed at a version is used again at that version by another view of the same memory, and packed again at another', () => {
    const panels = SharedPanels.create(4096);
    const other = new SharedPanels(panels.buffer); // what a worker thread makes of workerData
    const x = values(3 * 20, 1);
    const first = tf.tensor2d(values(12 * 20, 2), [12, 20]);
    const second = tf.tensor2d(values(12 * 20, 3), [12, 20]);
    const v1 = { generation: panels.mintGeneration(), updates: 0 };
    const a = panels.packed('w', first, true, v1)!;
    const b = other.packed('w', first, true, { ...v1 })!;
    assert.equal(a.panels.byteOffset, b.panels.byteOffset, 'one copy, at one place');
    assert.deepEqual(nativePanelMatMul(x, 3, b, new Float32Array(36)), privateProduct(first, x));
    // The same version is taken to mean the same weights: not packed again (so the old product comes back).
    assert.deepEqual(nativePanelMatMul(x, 3, other.packed('w', second, true, v1)!, new Float32Array(36)), privateProduct(first, x));
    for (const next of [{ ...v1, updates: 1 }, { generation: other.mintGeneration(), updates: 1 }]) {
      const c = other.packed('w', second, true, next)!; // an update, or a new generation (restored weights): packed again
      assert.equal(c.panels.byteOffset, a.panels.byteOffset);
      assert.deepEqual(nativePanelMatMul(x, 3, c, new Float32Array(36)), privateProduct(second, x));
      assert.deepEqual(nativePanelMatMul(x, 3, panels.packed('w', first, true, { ...next, updates: next.updates + 1 })!, new Float32Array(36)), privateProduct(first, x));
    }
    const d = panels.packed('w2', first, true, v1)!; // another key: its own place
    assert.notEqual(d.panels.byteOffset, a.panels.byteOffset);
    assert.deepEqual(nativePanelMatMul(x, 3, d, new Float32Array(36)), privateProduct(first, x));
    assert.equal(panels.mintGeneration(), v1.generation + 2, 'generations are counted in the shared memory, whichever view mints them');
    tf.dispose([first, second]);
  });

  test('prepack packs the weights no thread has packed and passes over one another thread is packing, without waiting', { timeout: 10_000 }, () => {
    const panels = SharedPanels.create(4096);
    const x = values(3 * 20, 6);
    const first = tf.tensor2d(values(12 * 20, 7), [12, 20]);
    const second = tf.tensor2d(values(12 * 20, 8), [12, 20]);
    const v1 = { generation: panels.mintGeneration(), updates: 0 };
    panels.prepack([{ key: 'a', weight: first, transposed: true }, { key: 'b', weight: second, transposed: true }], v1);
    // Packed by prepack: `packed` at the same version takes the copy as it is (even given other values).
    assert.deepEqual(nativePanelMatMul(x, 3, panels.packed('a', second, true, v1)!, new Float32Array(36)), privateProduct(first, x));
    assert.deepEqual(nativePanelMatMul(x, 3, panels.packed('b', first, true, v1)!, new Float32Array(36)), privateProduct(second, x));
    // Slot 'a' (the first) as another thread leaves it while it packs: state PACKING (header: lock, used, generations, then state first).
    const header = new Int32Array(panels.buffer);
    Atomics.store(header, 3, 1);
    const v2 = { ...v1, updates: 1 };
    panels.prepack([{ key: 'a', weight: second, transposed: true }, { key: 'b', weight: first, transposed: true }], v2); // would wait forever on 'a' if it waited
    assert.equal(Atomics.load(header, 3), 1, "the other thread's slot is left to it");
    Atomics.store(header, 3, 0); // that thread gives up (EMPTY)
    assert.deepEqual(nativePanelMatMul(x, 3, panels.packed('b', second, true, v2)!, new Float32Array(36)), privateProduct(first, x), "'b' was packed at v2 by prepack");
    assert.deepEqual(nativePanelMatMul(x, 3, panels.packed('a', second, true, v2)!, new Float32Array(36)), privateProduct(second, x), "'a' is packed when it is needed");
    tf.dispose([first, second]);
  });

  test('memory too small for a weight: undefined, and the caller packs on its own', () => {
    const weight = tf.tensor2d(values(12 * 20, 4), [12, 20]);
    const version = { generation: 1, updates: 0 };
    assert.equal(SharedPanels.create(packedLength(20, 12) - 1).packed('w', weight, true, version), undefined);
    assert.ok(SharedPanels.create(packedLength(20, 12)).packed('w', weight, true, version));
    weight.dispose();
  });

  test('shared for the weights it was registered with, while they have a version, until unregistered', () => {
    const panels = SharedPanels.create(16);
    const w = tf.variable(tf.zeros([2, 2]));
    const unrelated = tf.variable(tf.zeros([2, 2]));
    let version: { generation: number; updates: number } | undefined = { generation: 1, updates: 3 };
    sharePanels([w], { panels, version: () => version });
    assert.deepEqual(sharedPanelsOf(w), { panels, version: { generation: 1, updates: 3 } });
    assert.equal(sharedPanelsOf(unrelated), undefined);
    version = undefined; // weights that are not the group's (restored, not yet synced)
    assert.equal(sharedPanelsOf(w), undefined);
    version = { generation: 2, updates: 0 };
    sharePanels([w], null);
    assert.equal(sharedPanelsOf(w), undefined);
    tf.dispose([w, unrelated]);
  });

  test('a key longer than 64 bytes is refused', () => {
    const weight = tf.tensor2d(values(4, 5), [2, 2]);
    assert.throws(() => SharedPanels.create(1024).packed('k'.repeat(65), weight, false, { generation: 1, updates: 0 }), /longer than 64 bytes/);
    weight.dispose();
  });
});
