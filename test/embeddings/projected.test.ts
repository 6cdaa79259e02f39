// The projection in front of frozen word vectors: shapes, values (x W + b), what it
// inherits from the inner inputs, gradients reaching its weights, and no leaks.
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';
import { LearnedEmbedding } from '../../src/embeddings/learned';
import { ProjectedWordInputs } from '../../src/embeddings/projected';

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
});

test('a projection maps W-wide vectors to E, keeps causality and preparation, and trains', async () => {
  const inner = new LearnedEmbedding({ vocabularySize: 10, dim: 6, seed: 1 });
  let prepared: (readonly number[])[] = [];
  const withPrepare = Object.assign(Object.create(inner) as LearnedEmbedding, {
    prepareLast: async (prefixes: readonly (readonly number[])[]) => {
      prepared = [...prefixes];
    },
  });
  const words = new ProjectedWordInputs(withPrepare, { dim: 4, seed: 2 });
  try {
    assert.equal(words.dim, 4);
    assert.equal(words.causal, true);
    assert.deepEqual([...words.variables.keys()], ['embedding', 'projection.kernel', 'projection.bias']);
    await words.prepareLast!([[1, 5]]);
    assert.deepEqual(prepared, [[1, 5]], 'preparation reaches the inner inputs');

    const before = tf.memory().numTensors;
    const kernel = words.variables.get('projection.kernel')!;
    const bias = words.variables.get('projection.bias')!;
    const ids = tf.tensor2d([[1, 1], [5, 7], [3, 2]], [3, 2], 'int32'); // [T=3, B=2]
    const prefix = tf.tensor2d([[1, 5, 7]], [1, 3], 'int32'); // [B=1, t=3]
    const checks = tf.tidy(() => {
      const out = words.embedPrefix(ids); // [3, 2, 4]
      const expected = inner.embedPrefix(ids).reshape([6, 6]).matMul(kernel).add(bias).reshape([3, 2, 4]);
      const last = words.embedLast(prefix); // [1, 4]: the vector of word 7 = out[1, 1]
      const { grads } = tf.variableGrads(() => words.embedPrefix(ids).square().sum() as tf.Scalar, [kernel, bias]);
      return {
        shape: out.shape,
        maxDiff: tf.max(tf.abs(out.sub(expected))).dataSync()[0],
        lastDiff: tf.max(tf.abs(last.sub(out.slice([1, 1, 0], [1, 1, 4]).reshape([1, 4])))).dataSync()[0],
        kernelGrad: tf.max(tf.abs(grads[kernel.name])).dataSync()[0],
      };
    });
    assert.deepEqual(checks.shape, [3, 2, 4]);
    assert.ok(checks.maxDiff < 1e-6, 'x W + b');
    assert.ok(checks.lastDiff < 1e-6, 'embedLast projects the last word as embedPrefix does');
    assert.ok(checks.kernelGrad > 0, 'the kernel gets a gradient');
    tf.dispose([ids, prefix]);
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  } finally {
    words.dispose();
  }
});
