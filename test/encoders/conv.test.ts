// conv2dSame's forward-convolution gradients on wasm against tf.conv2d's on the cpu
// backend, and the small CNN's grid.
import { strict as assert } from 'node:assert';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';
import { conv2dSame } from '../../src/encoders/conv';
import { SmallCnn } from '../../src/encoders/small-cnn';
import { values } from '../model/helpers';

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
});

describe('conv2dSame on wasm', () => {
  const cases: [number, number, number, number, number, number][] = [
    // H, W, Ci, Co, kernel, stride
    [32, 32, 6, 8, 3, 2],
    [7, 9, 3, 4, 3, 2],
    [8, 8, 3, 5, 3, 1],
    [9, 10, 2, 3, 5, 3],
    [16, 16, 4, 4, 1, 2],
    [5, 6, 2, 3, 4, 2],
  ];
  for (const [H, W, ci, co, k, s] of cases) {
    test(`${H}x${W}x${ci} -> ${co}, kernel ${k}, stride ${s}: value and both gradients match cpu`, async () => {
      const xs = values(2 * H * W * ci, H * 31 + k);
      const ws = values(k * k * ci * co, W * 17 + s);
      const weights = values(2 * Math.ceil(H / s) * Math.ceil(W / s) * co, 99);
      const run = (conv: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D) =>
        tf.tidy(() => {
          const x = tf.tensor4d(xs, [2, H, W, ci]);
          const w = tf.tensor4d(ws, [k, k, ci, co]);
          const f = (a: tf.Tensor, b: tf.Tensor) => conv(a as tf.Tensor4D, b as tf.Tensor4D).mul(tf.tensor(weights, [2, Math.ceil(H / s), Math.ceil(W / s), co])).sum();
          const [dx, dw] = tf.grads(f)([x, w]);
          return [conv(x, w), dx, dw].map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) }));
        });
      await tf.setBackend('wasm');
      const before = tf.memory().numTensors;
      const wasm = run((x, w) => conv2dSame(x, w, s));
      assert.equal(tf.memory().numTensors, before);
      await tf.setBackend('cpu');
      const cpu = run((x, w) => tf.conv2d(x, w, s, 'same'));
      await tf.setBackend('wasm');
      wasm.forEach((t, i) => {
        assert.deepEqual(t.shape, cpu[i].shape);
        const scale = Math.max(1, ...cpu[i].data.map(Math.abs));
        t.data.forEach((v, j) => assert.ok(Math.abs(v - cpu[i].data[j]) <= 1e-4 * scale, `output ${i}, element ${j}: ${v} vs ${cpu[i].data[j]}`));
      });
    });
  }

  test('the small CNN turns 64 px into an 8 x 8 grid', () => {
    const cnn = new SmallCnn({ inputSize: 64, channels: [8, 16, 32], strides: [2, 2, 2], seed: 1 });
    const y = cnn.encode(tf.zeros([2, 64, 64, 3]) as tf.Tensor4D);
    assert.deepEqual(y.shape, [2, 64, 32]);
    assert.deepEqual(cnn.grid, [8, 8]);
    assert.equal(cnn.featureDim, 32);
    assert.throws(() => cnn.encode(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D), /input must be \[B, 64, 64, 3\], got \[1,32,32,3\]/);
    y.dispose();
    cnn.dispose();
  });
});
