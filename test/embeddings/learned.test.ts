// The learned word table through the WordInputs interface.
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';
import { LearnedEmbedding } from '../../src/embeddings/learned';

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
});

test('embedPrefix gives [T, B, E]; embedLast the last word of each prefix; init in ±0.1', () => {
  const words = new LearnedEmbedding({ vocabularySize: 10, dim: 4, seed: 1 });
  assert.equal(words.id, 'learned:v10:e4');
  assert.ok(words.causal);
  const table = words.variables.get('embedding')!;
  assert.deepEqual(table.shape, [10, 4]);
  assert.ok(Array.from(table.dataSync()).every((v) => Math.abs(v) <= 0.1));
  const before = tf.memory().numTensors;
  const all = words.embedPrefix(tf.tensor2d([[1, 1], [5, 7], [2, 9]], [3, 2], 'int32')); // [T=3, B=2]
  assert.deepEqual(all.shape, [3, 2, 4]);
  const last = words.embedLast(tf.tensor2d([[1, 5, 2], [1, 7, 9]], [2, 3], 'int32')); // [B=2, t=3]
  assert.deepEqual(last.shape, [2, 4]);
  // Position t of caption b in embedPrefix equals the row of its word in the table.
  assert.deepEqual(Array.from(last.dataSync()), [...all.slice([2, 0, 0], [1, 2, 4]).dataSync()]);
  const row = (id: number) => Array.from(table.dataSync().slice(id * 4, id * 4 + 4));
  assert.deepEqual(Array.from(all.slice([1, 1, 0], [1, 1, 4]).dataSync()), row(7));
  tf.dispose([all, last]);
  assert.ok(tf.memory().numTensors <= before + 4); // the two inputs only
  // Same seed, same table.
  const again = new LearnedEmbedding({ vocabularySize: 10, dim: 4, seed: 1 });
  assert.deepEqual(Array.from(again.variables.get('embedding')!.dataSync()), Array.from(table.dataSync()));
  words.dispose();
  again.dispose();
});
