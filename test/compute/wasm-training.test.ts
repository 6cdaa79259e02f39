// Each kernel that src/compute/wasm-training.ts installs against the cpu backend's stock result,
// then a tiny captioning model (conv + embedding + LSTM cell + soft attention) trained on wasm.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { spawnSync } from 'node:child_process';

import { selectBackend } from '../../src/compute/backend';
import { describeMatMul, NATIVE_KERNELS_ENV, nativeKernelsAvailable, useNativeKernels } from '../../src/compute/native-kernels';

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Runs `fn` on a backend and returns its result as a flat array with its shape. */
async function on(backend: 'cpu' | 'wasm', fn: () => tf.Tensor): Promise<{ shape: number[]; data: number[] }> {
  await tf.setBackend(backend);
  const t = tf.tidy(fn);
  const out = { shape: t.shape, data: Array.from(await t.data()) };
  t.dispose();
  return out;
}

function assertClose(actual: { shape: number[]; data: number[] }, expected: { shape: number[]; data: number[] }, tol = 1e-4): void {
  assert.deepEqual(actual.shape, expected.shape);
  const scale = Math.max(1, ...expected.data.map(Math.abs));
  actual.data.forEach((v, i) => {
    assert.ok(Math.abs(v - expected.data[i]) <= tol * scale, `element ${i}: wasm ${v} vs cpu ${expected.data[i]}`);
  });
}

/** Compares cpu and wasm on `fn` and checks that the wasm run left no data buffer behind. */
async function agree(fn: () => tf.Tensor, tol?: number): Promise<void> {
  const cpu = await on('cpu', fn);
  await tf.setBackend('wasm');
  const buffersBefore = tf.memory().numDataBuffers;
  const wasm = await on('wasm', fn);
  assert.equal(tf.memory().numDataBuffers, buffersBefore, 'the kernel leaked backend data');
  assertClose(wasm, cpu, tol);
}

before(async () => {
  const choice = await selectBackend({ force: 'wasm', log: null });
  assert.match(String(choice.details.patchedKernels), /UnsortedSegmentSum/);
});

describe('UnsortedSegmentSum (the gradient of an embedding lookup)', () => {
  test('sums rows by segment, with repeated and unused segments', async () => {
    await agree(() =>
      tf.unsortedSegmentSum(tf.tensor2d(values(6 * 5, 1), [6, 5]), tf.tensor1d([3, 0, 3, 3, 1, 0], 'int32'), 5),
    );
  });
  test('gradient of gather over a [10, 4] table with repeated ids', async () => {
    const table = values(40, 2);
    const weights = values(7 * 4, 3);
    await agree(() =>
      tf.grad((t: tf.Tensor) => tf.gather(t, tf.tensor1d([1, 4, 1, 9, 0, 1, 4], 'int32')).mul(tf.tensor2d(weights, [7, 4])).sum())(
        tf.tensor2d(table, [10, 4]),
      ),
    );
  });
  test('gradient of gather with a 2-d index tensor [batch, time]', async () => {
    await agree(() =>
      tf.grad((t: tf.Tensor) => tf.gather(t, tf.tensor2d([[2, 3, 2], [0, 2, 1]], [2, 3], 'int32')).square().sum())(
        tf.tensor2d(values(5 * 3, 4), [5, 3]),
      ),
    );
  });
});

describe('Conv2DBackpropFilter (the filter gradient of conv2d)', () => {
  const cases: { name: string; x: [number, number, number, number]; f: [number, number, number, number]; stride: number | [number, number]; pad: 'same' | 'valid' | number }[] = [
    { name: '3x3 stride 1 same', x: [2, 7, 7, 3], f: [3, 3, 3, 4], stride: 1, pad: 'same' },
    { name: '3x3 stride 2 same', x: [2, 8, 8, 3], f: [3, 3, 3, 5], stride: 2, pad: 'same' },
    { name: '3x3 stride 2 valid, size not divisible', x: [3, 9, 10, 2], f: [3, 3, 2, 4], stride: 2, pad: 'valid' },
    { name: '5x3 stride [2,1] same, odd sizes', x: [1, 11, 6, 3], f: [5, 3, 3, 2], stride: [2, 1], pad: 'same' },
    { name: '1x1 stride 1 valid', x: [4, 5, 5, 6], f: [1, 1, 6, 3], stride: 1, pad: 'valid' },
    { name: '3x3 stride 2 explicit pad 1', x: [2, 9, 9, 2], f: [3, 3, 2, 3], stride: 2, pad: 1 },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const xs = values(c.x.reduce((a, b) => a * b), 5);
      const fs = values(c.f.reduce((a, b) => a * b), 6);
      await agree(() => {
        const x = tf.tensor4d(xs, c.x);
        return tf.grad((f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, c.stride, c.pad).square().sum())(tf.tensor4d(fs, c.f));
      });
    });
  }
});

describe('native kernels on the wasm heap (native/heap-kernels)', () => {
  test('is built and used (scripts/setup.sh builds it)', () => {
    assert.ok(nativeKernelsAvailable(), `products do not run on OpenBLAS: ${describeMatMul()}`);
    assert.match(describeMatMul(), /^OpenBLAS \d+\.\d+\.\d+ \(native, 1 thread\); recurrent steps on packed panels \(native\)$/);
  });
  test(`${NATIVE_KERNELS_ENV}=0 leaves every product to XNNPACK`, () => {
    const script = "const b=require('./src/compute/backend');const n=require('./src/compute/native-kernels');b.selectBackend({force:'wasm',log:null}).then(()=>console.log(n.describeMatMul()))";
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', env: { ...process.env, [NATIVE_KERNELS_ENV]: '0' } });
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, new RegExp(`^XNNPACK \\(wasm\\); not OpenBLAS: ${NATIVE_KERNELS_ENV}=0`, 'm'));
  });
});

for (const implementation of ['OpenBLAS', 'XNNPACK'] as const) {
  describe(`BatchMatMul on ${implementation}, plain, transposed, batched and broadcast`, () => {
    let previous = true;
    before(() => {
      previous = useNativeKernels(implementation === 'OpenBLAS');
    });
    after(() => {
      useNativeKernels(previous);
    });
    const cases: { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
      { name: 'A B', a: [5, 7], b: [7, 3], ta: false, tb: false },
      { name: 'A^T B', a: [7, 5], b: [7, 3], ta: true, tb: false },
      { name: 'A B^T', a: [5, 7], b: [3, 7], ta: false, tb: true },
      { name: 'A^T B^T', a: [7, 5], b: [3, 7], ta: true, tb: true },
      { name: 'batched A B^T', a: [2, 4, 6], b: [2, 3, 6], ta: false, tb: true },
      { name: 'batched A^T B', a: [3, 6, 4], b: [3, 6, 2], ta: true, tb: false },
      { name: 'one B for every A', a: [4, 5, 7], b: [7, 3], ta: false, tb: false },
      { name: 'one A for every B^T', a: [1, 5, 7], b: [4, 3, 7], ta: false, tb: true },
      { name: 'rank 4', a: [2, 3, 5, 7], b: [2, 3, 7, 2], ta: false, tb: false },
      { name: 'batch axes that broadcast axis by axis', a: [2, 1, 5, 7], b: [1, 2, 7, 3], ta: false, tb: false },
      { name: 'a [64, 300] x [300, 130] product', a: [64, 300], b: [300, 130], ta: false, tb: false },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const as = values(c.a.reduce((x, y) => x * y), 7);
        const bs = values(c.b.reduce((x, y) => x * y), 8);
        await agree(() => tf.matMul(tf.tensor(as, c.a), tf.tensor(bs, c.b), c.ta, c.tb));
      });
    }
    test('the gradient of a dense layer (uses transposed products)', async () => {
      const xs = values(6 * 8, 9);
      const ws = values(8 * 4, 10);
      await agree(() => {
        const x = tf.tensor2d(xs, [6, 8]);
        const g = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.matMul(x, w).tanh().sum())([x, tf.tensor2d(ws, [8, 4])]);
        return tf.concat([g[0].flatten(), g[1].flatten()]);
      });
    });
  });
}

describe('Slice copying inside the wasm heap', () => {
  const cases: { name: string; shape: number[]; begin: number[]; size: number[]; dtype: 'float32' | 'int32' | 'bool' }[] = [
    { name: 'rows of a matrix (contiguous)', shape: [6, 8], begin: [1, 0], size: [3, 8], dtype: 'float32' },
    { name: 'a block of a matrix', shape: [6, 8], begin: [1, 2], size: [3, 4], dtype: 'float32' },
    { name: 'a block of a rank-3 int32 tensor', shape: [3, 4, 5], begin: [1, 1, 2], size: [2, 3, 3], dtype: 'int32' },
    { name: 'rank 4', shape: [2, 3, 4, 5], begin: [0, 1, 0, 1], size: [2, 2, 4, 3], dtype: 'float32' },
    { name: 'bool (one byte an element)', shape: [5, 3], begin: [2, 1], size: [3, 2], dtype: 'bool' },
    { name: 'rank 5, a single element wide', shape: [2, 3, 4, 5, 2], begin: [1, 0, 1, 2, 1], size: [1, 3, 2, 3, 1], dtype: 'float32' },
    { name: 'empty', shape: [4, 4], begin: [2, 0], size: [0, 4], dtype: 'float32' },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const n = c.shape.reduce((x, y) => x * y, 1);
      const xs = c.dtype === 'bool' ? values(n, 11).map((v) => (v > 0 ? 1 : 0)) : c.dtype === 'int32' ? values(n, 11).map((v) => Math.round(v * 100)) : values(n, 11);
      await agree(() => tf.slice(tf.tensor(xs, c.shape, c.dtype), c.begin, c.size).cast('float32'), 0);
    });
  }
});

test('a tiny conv + embedding + LSTM-cell + soft-attention captioner trains on wasm without leaking', async () => {
  await tf.setBackend('wasm');
  const [B, S, C, V, E, H, A, T] = [4, 16, 3, 10, 8, 16, 8, 5]; // batch, image side, channels, vocab, emb, hidden, attention, steps
  const F = 8; // conv filters = region feature size
  const images = tf.tensor4d(values(B * S * S * C, 11), [B, S, S, C]); // [B, S, S, C]
  const words = [
    [1, 4, 5, 2, 0, 0],
    [1, 6, 7, 8, 2, 0],
    [1, 4, 7, 2, 0, 0],
    [1, 9, 5, 3, 2, 0],
  ];
  const inputs = tf.tensor2d(words.map((w) => w.slice(0, T)), [B, T], 'int32'); // [B, T]
  const targets = tf.tensor2d(words.map((w) => w.slice(1, T + 1)), [B, T], 'int32'); // [B, T]
  const init = (shape: number[], seed: number) => tf.variable(tf.tensor(values(shape.reduce((a, b) => a * b), seed), shape).mul(0.3));
  const w = {
    conv: init([3, 3, C, F], 12),
    embed: init([V, E], 13),
    lstmKernel: init([E + F + H, 4 * H], 14),
    lstmBias: tf.variable(tf.zeros([4 * H])),
    attFeat: init([F, A], 15),
    attHidden: init([H, A], 16),
    attScore: init([A, 1], 17),
    out: init([H, V], 18),
  };
  const loss = () =>
    tf.tidy(() => {
      const grid = tf.relu(tf.conv2d(images, w.conv as tf.Variable<tf.Rank.R4>, 2, 'same')); // [B, 8, 8, F]
      const regions = grid.reshape([B, -1, F]); // [B, P, F]
      const P = regions.shape[1] as number; // regions per image
      const featProj = regions.reshape([B * P, F]).matMul(w.attFeat).reshape([B, P, A]); // [B, P, A]
      const embedded = tf.gather(w.embed, inputs); // [B, T, E]
      let h = tf.zeros([B, H]) as tf.Tensor2D;
      let c = tf.zeros([B, H]) as tf.Tensor2D;
      const losses: tf.Scalar[] = [];
      for (let t = 0; t < T; t++) {
        const scores = tf.tanh(featProj.add(h.matMul(w.attHidden).expandDims(1))); // [B, P, A]
        const alpha = tf.softmax(scores.reshape([B * P, A]).matMul(w.attScore).reshape([B, P])); // [B, P]
        const context = alpha.expandDims(2).mul(regions).sum(1); // [B, F]
        const x = tf.concat([embedded.slice([0, t, 0], [B, 1, E]).reshape([B, E]), context], 1); // [B, E + F]
        [c, h] = tf.basicLSTMCell(1, w.lstmKernel as tf.Tensor2D, w.lstmBias as tf.Tensor1D, x as tf.Tensor2D, c, h); // [B, H] each
        const logits = h.matMul(w.out); // [B, V]
        const target = targets.slice([0, t], [B, 1]).reshape([B]);
        losses.push(tf.losses.softmaxCrossEntropy(tf.oneHot(target, V), logits) as tf.Scalar);
      }
      return tf.addN(losses).div(T) as tf.Scalar;
    });

  const optimizer = tf.train.adam(0.02);
  const history: number[] = [];
  const tensorCounts: number[] = [];
  for (let step = 0; step < 12; step++) {
    const cost = optimizer.minimize(loss, true)!;
    history.push((await cost.data())[0]);
    cost.dispose();
    tensorCounts.push(tf.memory().numTensors);
  }
  assert.equal(tf.getBackend(), 'wasm');
  assert.ok(history.every(Number.isFinite), `loss must stay finite: ${history}`);
  assert.ok(history[history.length - 1] < 0.7 * history[0], `loss should fall: ${history.map((l) => l.toFixed(3))}`);
  // Adam creates its moment variables in the first step; from then on the count must not move.
  assert.deepEqual(tensorCounts.slice(1), tensorCounts.slice(1).map(() => tensorCounts[1]), `tensor counts: ${tensorCounts}`);
});
