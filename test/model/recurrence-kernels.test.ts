// The attention's host loops of a time step (src/model/recurrence-kernels.ts) in native code
// (native/heap-kernels/attention.c) against the same loops in JavaScript: every gate width,
// rows written at an offset into arrays stacked over the steps, with and without the features'
// gradient. The loops' maths against tfjs's autodiff is test/train/optimised-equivalence.test.ts.
import { strict as assert } from 'node:assert';
import { after, describe, test } from 'node:test';

import { describeMatMul, nativeKernelsAvailable, useNativeKernels } from '../../src/compute/native-kernels';
import { type AttentionSpec, attentionContext, attentionContextBackward } from '../../src/model/recurrence-kernels';

function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return scale * (s / 2 ** 31 - 1);
  });
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const scale = Math.max(1e-3, ...Array.from(expected, Math.abs));
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-6 * scale, `${what}[${i}]: native ${v} vs JavaScript ${expected[i]}`));
}

/** Runs both loops with the native kernels on or off and returns everything they wrote. */
function run(native: boolean, spec: AttentionSpec, B: number, row: number, featureGrads: boolean) {
  const { P, A, D, G } = spec;
  const N = row + B + 2; // rows of the stacked arrays: some before this step's, some after
  const features = values(B * P * D, 1);
  const hp = values(B * (A + G), 2, 2);
  const scores = values(B * P, 3, 4);
  const stacked = { alpha: new Float32Array(N * P).fill(7), z: new Float32Array(N * D).fill(7), zg: new Float32Array(N * D).fill(7) };
  const previous = useNativeKernels(native);
  try {
    attentionContext(spec, B, scores, features, hp, { ...stacked, row });
    const grads = { hp: new Float32Array(B * (A + G)).fill(5), features: featureGrads ? values(B * P * D, 4) : null };
    const dScores = attentionContextBackward(spec, B, { features, hp, alpha: stacked.alpha, z: stacked.z, row }, values(B * D, 5), values(B * P, 6), grads);
    return { ...stacked, dScores, dHp: grads.hp, dFeatures: grads.features ?? new Float32Array(0) };
  } finally {
    useNativeKernels(previous);
  }
}

after(() => useNativeKernels(true));

describe('the attention loops of a time step, native and JavaScript', () => {
  test('the native kernels are built', () => assert.ok(nativeKernelsAvailable(), describeMatMul()));
  for (const [gate, G] of [['none', 0], ['scalar', 1], ['vector', 19]] as const) {
    for (const featureGrads of [false, true]) {
      test(`gate ${gate}, ${featureGrads ? 'with' : 'without'} the features' gradient: the same values, the other rows untouched`, () => {
        const spec: AttentionSpec = { P: 7, A: 5, D: 19, G, activation: 'relu', gate };
        const [native, script] = [run(true, spec, 3, 2, featureGrads), run(false, spec, 3, 2, featureGrads)];
        for (const key of ['alpha', 'z', 'zg', 'dScores', 'dHp', 'dFeatures'] as const) assertClose(native[key], script[key], key);
        assert.deepEqual(Array.from(native.alpha.subarray(0, 2 * 7)), new Array(14).fill(7), 'rows before the step untouched');
        assert.deepEqual(Array.from(native.z.subarray(5 * 19)), new Array(2 * 19).fill(7), 'rows after the step untouched');
        if (G === 0) assert.deepEqual(native.z, native.zg, 'no gate: zg = z');
      });
    }
  }

  test('arrays too short are a RangeError naming the array', () => {
    const spec: AttentionSpec = { P: 4, A: 3, D: 5, G: 1, activation: 'tanh', gate: 'scalar' };
    assert.throws(
      () => attentionContext(spec, 2, values(8, 1), values(2 * 4 * 5 - 1, 2), values(2 * 4, 3), { alpha: new Float32Array(8), z: new Float32Array(10), zg: new Float32Array(10), row: 0 }),
      { name: 'RangeError', message: /attentionContext: features holds 39 floats, needs 40/ },
    );
  });
});
