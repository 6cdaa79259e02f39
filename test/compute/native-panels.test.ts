// The native kernels that work on host arrays (native/heap-kernels/panels.c): products of a few
// rows with a weight packed once, against the cpu backend's matMul.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';
import { describeMatMul, nativeKernelsAvailable, useNativeKernels } from '../../src/compute/native-kernels';
import { nativePackPanels, nativePanelMatMul, packedLength, sideBySideTensor } from '../../src/compute/native-panels';
import { StepWeight } from '../../src/model/step-products';

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** x [m, k] times weight [rows, cols] (transposed: its transpose) on the cpu backend. */
async function cpuProduct(x: Float32Array, m: number, weight: Float32Array, shape: [number, number], transposed: boolean): Promise<Float32Array> {
  await tf.setBackend('cpu');
  const k = transposed ? shape[1] : shape[0];
  const out = tf.tidy(() => tf.matMul(tf.tensor2d(x, [m, k]), tf.tensor2d(weight, shape), false, transposed).dataSync() as Float32Array);
  await tf.setBackend('wasm');
  return out;
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-5 * Math.max(1, Math.abs(expected[i])), `${what}, element ${i}: native ${v} vs cpu ${expected[i]}`));
}

/** A buffer store like fused-recurrence.ts's scratch. */
const buffers = { get: (_name: string, length: number) => new Float32Array(length) };

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
  assert.ok(nativeKernelsAvailable(), `the native kernels are not built: ${describeMatMul()}`);
});

after(() => useNativeKernels(true));

describe('packed-panel products (panels.c)', () => {
  // Rows below, at and past the kernel's 8-row blocks; columns below, at and past its 16-column panels.
  const cases: { m: number; rows: number; cols: number }[] = [
    { m: 1, rows: 1, cols: 1 },
    { m: 7, rows: 5, cols: 15 },
    { m: 8, rows: 16, cols: 16 },
    { m: 13, rows: 33, cols: 17 },
    { m: 32, rows: 64, cols: 40 },
  ];
  for (const transposed of [false, true]) {
    for (const { m, rows, cols } of cases) {
      test(`x [${m}, k] times ${transposed ? 'the transpose of ' : ''}[${rows}, ${cols}] matches the cpu backend`, async () => {
        const [k, n] = transposed ? [cols, rows] : [rows, cols];
        const weightValues = values(rows * cols, rows * 31 + cols);
        const x = values(m * k, m + 7);
        const expected = await cpuProduct(x, m, weightValues, [rows, cols], transposed);
        const weight = tf.tensor2d(weightValues, [rows, cols]);
        const packed = nativePackPanels(weight, transposed, new Float32Array(packedLength(k, n)));
        weight.dispose();
        assert.ok(packed);
        const out = new Float32Array(m * n + 5).fill(99); // longer than the product: what lies past it stays
        assertClose(nativePanelMatMul(x, m, packed, out), expected, 'product');
        assert.deepEqual(Array.from(out.subarray(m * n)), [99, 99, 99, 99, 99]);
      });
    }
  }

  test('the packed panels hold the weight 16 columns at a time, the last one padded with zeros', () => {
    const weight = tf.tensor2d(Float32Array.from({ length: 2 * 17 }, (_, i) => i + 1), [2, 17]); // B [2, 17]
    const packed = nativePackPanels(weight, false, new Float32Array(packedLength(2, 17)).fill(-1))!;
    weight.dispose();
    assert.equal(packed.panels.length, 2 * 16 * 2);
    assert.deepEqual(Array.from(packed.panels.subarray(0, 16)), Array.from({ length: 16 }, (_, c) => c + 1)); // panel 0, k = 0
    assert.deepEqual(Array.from(packed.panels.subarray(16, 32)), Array.from({ length: 16 }, (_, c) => 18 + c)); // panel 0, k = 1
    assert.deepEqual(Array.from(packed.panels.subarray(32, 48)), [17, ...new Array(15).fill(0)]); // panel 1, k = 0
  });

  test('too short an array is a RangeError that names it', () => {
    const weight = tf.tensor2d(values(4 * 20, 3), [4, 20]);
    assert.throws(() => nativePackPanels(weight, false, new Float32Array(packedLength(4, 20) - 1)), { name: 'RangeError', message: /packPanels: panels holds 127 floats, needs 128/ });
    const packed = nativePackPanels(weight, false, new Float32Array(packedLength(4, 20)))!;
    weight.dispose();
    assert.throws(() => nativePanelMatMul(values(3 * 4, 1), 3, packed, new Float32Array(3 * 20 - 1)), { name: 'RangeError', message: /panelMatMul: out holds 59 floats, needs 60/ });
    assert.throws(() => nativePanelMatMul(values(3 * 4 - 1, 1), 3, packed, new Float32Array(3 * 20)), { name: 'RangeError', message: /panelMatMul: x holds 11 floats, needs 12/ });
  });

  test('StepWeight gives the same products natively and as matMuls on the backend', () => {
    const weight = tf.tensor2d(values(24 * 40, 5), [24, 40]);
    const x = values(9 * 40, 6);
    const results = [true, false].map((native) => {
      useNativeKernels(native);
      const step = new StepWeight(weight, true, buffers, 'w'); // [9, 40] x [40, 24]
      return Float32Array.from(step.times(x, 9, 'out'));
    });
    useNativeKernels(true);
    weight.dispose();
    assertClose(results[0], results[1], 'native vs backend');
  });

  test('blocks of weights side by side pack where they lie, as their concatenation does', () => {
    // Rows 3..9 of a [12, 32] weight beside rows 0..6 of a [7, 21] one: [7, 53]; then a first block of 20 columns (not whole panels: through a copy).
    const left = tf.tensor2d(values(12 * 32, 11), [12, 32]);
    const right = tf.tensor2d(values(7 * 21, 12), [7, 21]);
    const odd = tf.tensor2d(values(7 * 20, 13), [7, 20]);
    const x = values(5 * 7, 14);
    for (const source of [
      { rows: 7, blocks: [{ weight: left, firstRow: 3 }, { weight: right, firstRow: 0 }] },
      { rows: 7, blocks: [{ weight: odd, firstRow: 0 }, { weight: right, firstRow: 0 }] },
    ]) {
      const whole = sideBySideTensor(source);
      const n = whole.shape[1];
      const fromBlocks = nativePackPanels(source, false, new Float32Array(packedLength(7, n)).fill(-1))!;
      const fromWhole = nativePackPanels(whole, false, new Float32Array(packedLength(7, n)))!;
      whole.dispose();
      assert.deepEqual(fromBlocks.panels, fromWhole.panels, `blocks of ${source.blocks.map((b) => b.weight.shape[1]).join(' + ')} columns`);
      assertClose(nativePanelMatMul(x, 5, fromBlocks, new Float32Array(5 * n)), nativePanelMatMul(x, 5, fromWhole, new Float32Array(5 * n)), 'product');
    }
    assert.throws(() => nativePackPanels({ rows: 7, blocks: [{ weight: left, firstRow: 6 }] }, false, new Float32Array(packedLength(7, 32))), { name: 'RangeError', message: /rows 6\.\.13 are not all in a weight of 12 rows/ });
    tf.dispose([left, right, odd]);
  });
});
