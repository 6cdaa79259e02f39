// The attention of a time step in native code (native/heap-kernels/attention.c) against its
// fallbacks: the context loops of src/model/recurrence-kernels.ts against the same loops in
// JavaScript (every gate width, rows written at an offset into arrays stacked over the steps,
// with and without the features' gradient), and the scores' passes of attention-scores.ts
// against tfjs kernels (ReLU and tanh, a batch that shrinks over the steps, NaN kept). The maths
// against tfjs's autodiff is test/train/optimised-equivalence.test.ts.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';

import { describeMatMul, nativeKernelsAvailable, useNativeKernels } from '../../src/compute/native-kernels';
import { AttentionScores } from '../../src/model/attention-scores';
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

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
});
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

  test('a gate width other than 0, 1 or D is a RangeError', () => {
    const spec: AttentionSpec = { P: 4, A: 3, D: 5, G: 2, activation: 'relu', gate: 'vector' };
    assert.throws(() => attentionContext(spec, 1, values(4, 1), values(20, 2), values(5, 3), { alpha: new Float32Array(4), z: new Float32Array(5), zg: new Float32Array(5), row: 0 }), {
      name: 'RangeError',
      message: /gate width G must be 0, 1 or D \(5\), got 2/,
    });
  });

  test('arrays too short are a RangeError naming the array', () => {
    const spec: AttentionSpec = { P: 4, A: 3, D: 5, G: 1, activation: 'tanh', gate: 'scalar' };
    assert.throws(
      () => attentionContext(spec, 2, values(8, 1), values(2 * 4 * 5 - 1, 2), values(2 * 4, 3), { alpha: new Float32Array(8), z: new Float32Array(10), zg: new Float32Array(10), row: 0 }),
      { name: 'RangeError', message: /attentionContext: features holds 39 floats, needs 40/ },
    );
  });
});

describe('the attention scores of the steps, native and tfjs', () => {
  /** Forward and backward over steps of 3, 3 and 2 rows (the batch shrinks as captions end), then finish. */
  function steps(native: boolean, activation: 'relu' | 'tanh', projected: Float32Array) {
    const spec: AttentionSpec = { P: 5, A: 6, D: 4, G: 1, activation, gate: 'scalar' };
    const v = values(6, 11);
    const vTensor = tf.tensor2d(v, [6, 1]);
    const previous = useNativeKernels(native);
    const buffers = new Map<string, Float32Array>();
    const get = (name: string, length: number) => {
      const buffer = buffers.get(name);
      if (buffer && buffer.length >= length) return buffer.subarray(0, length);
      buffers.set(name, new Float32Array(length));
      return buffers.get(name)!;
    };
    const scoring = new AttentionScores(spec, projected, vTensor, v, { get });
    try {
      const sizes = [3, 3, 2];
      const hp = sizes.map((_, t) => values(3 * 7, 20 + t));
      const scores = sizes.map((Bt, t) => Float32Array.from(scoring.forward(Bt, hp[t])));
      const dv = new Float64Array(6);
      const uSums = [...sizes.keys()].reverse().map((t) => Float32Array.from(scoring.backward(sizes[t], hp[t], values(sizes[t] * 5, 30 + t), dv)));
      const projectedGrad = Float32Array.from(scoring.finish(dv));
      return { scores, uSums, dv: Float32Array.from(dv), projectedGrad };
    } finally {
      scoring.dispose();
      vTensor.dispose();
      useNativeKernels(previous);
    }
  }

  for (const activation of ['relu', 'tanh'] as const) {
    test(`${activation}: scores, u summed over the regions, dv and d projected agree`, () => {
      const projected = values(3 * 5 * 6, 10);
      const [native, backend] = [steps(true, activation, projected), steps(false, activation, projected)];
      native.scores.forEach((s, t) => assertClose(s, backend.scores[t], `scores of step ${t}`));
      native.uSums.forEach((u, k) => assertClose(u, backend.uSums[k], `uSum ${k}`));
      assertClose(native.dv, backend.dv, 'dv');
      assertClose(native.projectedGrad, backend.projectedGrad, 'd projected');
    });
  }

  test('a NaN in the features reaches the scores and the gradients natively as through tfjs (ReLU)', () => {
    const projected = values(3 * 5 * 6, 10);
    projected[7] = NaN; // row 0, region 1
    for (const native of [true, false]) {
      const run = steps(native, 'relu', projected);
      assert.ok(Number.isNaN(run.scores[0][1]), `native ${native}: score of the region with a NaN`);
      assert.ok(Number.isFinite(run.scores[0][2]), `native ${native}: the other regions' scores`);
      assert.ok(Number.isNaN(run.projectedGrad[7]), `native ${native}: d projected where the NaN was`);
    }
  });
});
