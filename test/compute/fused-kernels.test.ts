// The speedups of issue #9 against the cpu backend's stock ops: the fused LSTM cell and
// attention context (forward and gradients), the kept transposes of matMul, the shared
// Identity; and that none of them leaves backend data behind.
import { strict as assert } from 'node:assert';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';
import { LSTM_CELL, WEIGHTED_SUM } from '../../src/compute/wasm-fused-kernels';
import { cachedTransposes } from '../../src/compute/wasm-kernel-patches';
import { weightedSum } from '../../src/model/attention';
import { lstmCell } from '../../src/model/lstm-cell';

/** Deterministic values in [-2, 2). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 31 - 1) * 2;
  });
}

/** Runs `fn` on a backend and returns its results as flat arrays. */
async function on(backend: 'cpu' | 'wasm', fn: () => tf.Tensor[]): Promise<number[][]> {
  await tf.setBackend(backend);
  const out = tf.tidy(fn);
  const data = out.map((t) => Array.from(t.dataSync()));
  tf.dispose(out);
  return data;
}

/** cpu (stock ops) and wasm (our kernels) agree on `fn`, and wasm leaves no data behind. */
async function agree(fn: () => tf.Tensor[], tol = 1e-5): Promise<void> {
  const cpu = await on('cpu', fn);
  await tf.setBackend('wasm');
  const buffers = tf.memory().numDataBuffers;
  const wasm = await on('wasm', fn);
  assert.equal(tf.memory().numDataBuffers, buffers, 'backend data leaked');
  wasm.forEach((out, k) => {
    assert.equal(out.length, cpu[k].length);
    out.forEach((v, i) => assert.ok(Math.abs(v - cpu[k][i]) <= tol * Math.max(1, Math.abs(cpu[k][i])), `output ${k}, element ${i}: wasm ${v}, cpu ${cpu[k][i]}`));
  });
}

before(async () => {
  const choice = await selectBackend({ force: 'wasm', log: null });
  assert.match(String(choice.details.patchedKernels), new RegExp(`${LSTM_CELL}.*${WEIGHTED_SUM}`));
});

describe('fused LSTM cell (CaptioningLstmCell) equals the plain ops on cpu', () => {
  const [B, H] = [3, 5];
  const gates = values(B * 4 * H, 1);
  const c = values(B * H, 2);
  const wh = values(B * H, 3);
  const wc = values(B * H, 4);
  test('h, c and the gradients for gates and c_{t-1} (both outputs used)', async () => {
    await agree(() => {
      const g = tf.tensor2d(gates, [B, 4 * H]);
      const c0 = tf.tensor2d(c, [B, H]);
      const loss = (gt: tf.Tensor, ct: tf.Tensor) => {
        const out = lstmCell(gt as tf.Tensor2D, ct as tf.Tensor2D, true);
        return out.h.mul(tf.tensor2d(wh, [B, H])).sum().add(out.c.mul(tf.tensor2d(wc, [B, H])).sum()) as tf.Scalar;
      };
      const { h, c: c1 } = lstmCell(g, c0, true);
      const [dg, dc] = tf.grads(loss)([g, c0]);
      return [h, c1, dg, dc];
    });
  });
  test('gradient when only h is used (the unused c gets a zero gradient)', async () => {
    await agree(() => {
      const g = tf.tensor2d(gates, [B, 4 * H]);
      const c0 = tf.tensor2d(c, [B, H]);
      const [dg, dc] = tf.grads((gt: tf.Tensor, ct: tf.Tensor) => lstmCell(gt as tf.Tensor2D, ct as tf.Tensor2D, true).h.square().sum() as tf.Scalar)([g, c0]);
      return [dg, dc];
    });
  });
});

describe('fused attention context (CaptioningWeightedSum) equals the plain ops on cpu', () => {
  const [B, P, D] = [2, 4, 3];
  const alpha = values(B * P, 5);
  const features = values(B * P * D, 6);
  const w = values(B * D, 7);
  test('context and the gradients for alpha and the features', async () => {
    await agree(() => {
      const a = tf.tensor2d(alpha, [B, P]);
      const f = tf.tensor3d(features, [B, P, D]);
      const [da, df] = tf.grads((at: tf.Tensor, ft: tf.Tensor) => weightedSum(at as tf.Tensor2D, ft as tf.Tensor3D, true).mul(tf.tensor2d(w, [B, D])).sum() as tf.Scalar)([a, f]);
      return [weightedSum(a, f, true), da, df];
    });
  });
});

describe('matMul with kept transposes and the shared Identity', () => {
  test('dy W^T with the same W at several steps, and its gradient, equal cpu; the transposes go with W', async () => {
    await agree(() => {
      const W = tf.tensor2d(values(6 * 4, 8), [6, 4]);
      const outs: tf.Tensor[] = [];
      for (let t = 0; t < 3; t++) outs.push(tf.matMul(tf.tensor2d(values(2 * 4, 10 + t), [2, 4]), W, false, true)); // [2, 6]
      // The same data viewed with another shape must not reuse the [6, 4] transpose.
      outs.push(tf.matMul(tf.tensor2d(values(2 * 3, 20), [2, 3]), W.reshape([8, 3]), false, true)); // [2, 8]
      outs.push(tf.grad((w: tf.Tensor) => tf.matMul(tf.tensor2d(values(2 * 6, 30), [2, 6]), w).square().sum())(W)); // [6, 4]
      return outs;
    });
    assert.equal(cachedTransposes(), 0, 'a transpose outlived its weight');
  });
  test('a clone shares data that outlives the original', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3]);
    y.dispose();
  });
});
