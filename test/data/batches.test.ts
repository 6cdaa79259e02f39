// Batching: seeded order, every caption once per epoch, bucketing by length, padded ids,
// and image batches decoded one at a time with clear errors.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs';

import { batchTensors, captionBatches, imageCaptionBatches, makeCaptionBatch, planBatches } from '../../src/data/batches';
import type { DatasetImage } from '../../src/data/dataset';
import { createRng, seededPermutation } from '../../src/common/random';
import { buildVocabulary } from '../../src/data/build-vocabulary';
import { encodeCaptions } from '../../src/data/encoded-captions';
import { END_ID, PAD_ID, START_ID } from '../../src/data/vocabulary';
import { halves, tempDir, writeRgb } from './helpers';

/** 60 images with 2 captions each, lengths 1..12 words, all in train. */
function lengthsDataset(): { images: DatasetImage[] } {
  const rng = createRng('lengths');
  let id = 0;
  return {
    images: Array.from({ length: 60 }, (_, i) => ({
      id: i,
      file: `img_${i}.png`,
      split: 'train' as const,
      sourceSplit: 'train',
      captions: [0, 1].map(() => {
        const tokens = Array.from({ length: 1 + rng.int(12) }, (_, k) => `w${k % 5}`);
        return { id: id++, raw: tokens.join(' '), tokens };
      }),
    })),
  };
}

const data = lengthsDataset();
const vocab = buildVocabulary(data, { minCount: 1 });
const encoded = encodeCaptions(data, vocab, 'train');

test('the seeded generator is reproducible, and seeds and labels give different streams', () => {
  const a = createRng(7);
  const b = createRng(7);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.next()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, (() => { const c = createRng(8); return () => c.next(); })()));
  assert.notDeepEqual(createRng('x').fork('a').next(), createRng('x').fork('b').next());
  const counts = new Array(6).fill(0);
  const r = createRng('uniform');
  for (let i = 0; i < 6000; i++) counts[r.int(6)] += 1;
  for (const c of counts) assert.ok(c > 850 && c < 1150, `int(6) is roughly uniform: ${counts}`);
  assert.deepEqual([...seededPermutation(10, 3)].sort((p, q) => p - q), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('an epoch holds every caption exactly once; same seed same order, other seed or epoch another', () => {
  const plan = planBatches(encoded, { batchSize: 16, seed: 1 });
  const rows = plan.flatMap((b) => Array.from(b)).sort((p, q) => p - q);
  assert.deepEqual(rows, Array.from({ length: 120 }, (_, i) => i));
  assert.deepEqual(plan.map((b) => b.length), [16, 16, 16, 16, 16, 16, 16, 8]);
  const again = planBatches(encoded, { batchSize: 16, seed: 1 });
  assert.deepEqual(again.map((b) => Array.from(b)), plan.map((b) => Array.from(b)));
  assert.notDeepEqual(planBatches(encoded, { batchSize: 16, seed: 2 })[0], plan[0]);
  assert.notDeepEqual(planBatches(encoded, { batchSize: 16, seed: 1, epoch: 1 })[0], plan[0]);
  assert.equal(planBatches(encoded, { batchSize: 16, seed: 1, dropLast: true }).length, 7);
  const ordered = planBatches(encoded, { batchSize: 16, seed: 1, shuffle: false });
  assert.deepEqual(Array.from(ordered[0]), Array.from({ length: 16 }, (_, i) => i));
});

/** Padding ids over an epoch. */
function padding(plan: Int32Array[]): number {
  return plan.reduce((sum, rows) => sum + makeCaptionBatch(encoded, rows).ids.filter((id) => id === PAD_ID).length, 0);
}

test('bucketing puts captions of similar length together and still shuffles the batches', () => {
  const bucketed = planBatches(encoded, { batchSize: 10, seed: 1, bucketByLength: true });
  const plain = planBatches(encoded, { batchSize: 10, seed: 1 });
  assert.ok(padding(bucketed) < padding(plain) / 3, `bucketed padding ${padding(bucketed)} vs ${padding(plain)}`);
  for (const rows of bucketed) {
    const lengths = Array.from(makeCaptionBatch(encoded, rows).lengths);
    assert.ok(Math.max(...lengths) - Math.min(...lengths) <= 1, `lengths in one batch: ${lengths}`);
  }
  const maxLengths = bucketed.map((rows) => makeCaptionBatch(encoded, rows).shape[1]);
  const sorted = [...maxLengths].sort((p, q) => p - q);
  assert.notDeepEqual(maxLengths, sorted, 'batches are not served shortest first');
  assert.deepEqual(bucketed.flatMap((b) => Array.from(b)).sort((p, q) => p - q), Array.from({ length: 120 }, (_, i) => i));
});

test('a batch holds <start> words <end> then <pad>, with lengths and image indices', () => {
  const batches = [...captionBatches(encoded, { batchSize: 7, seed: 3 })];
  assert.equal(batches.length, Math.ceil(120 / 7));
  for (const batch of batches) {
    const [B, T] = batch.shape;
    assert.equal(batch.ids.length, B * T);
    for (let b = 0; b < B; b++) {
      const row = Array.from(batch.ids.subarray(b * T, (b + 1) * T));
      const length = batch.lengths[b];
      assert.equal(row[0], START_ID);
      assert.equal(row[length - 1], END_ID);
      assert.ok(row.slice(length).every((id) => id === PAD_ID));
      const r = batch.rows[b];
      const image = data.images[batch.images[b]];
      assert.deepEqual(vocab.decode(row), image.captions[encoded.caption[r]].tokens);
    }
  }
});

test('image batches: decoded per batch, aligned with the captions, errors naming the file', async () => {
  const root = tempDir('batches');
  const colours = [[255, 0, 0], [0, 255, 0], [0, 0, 255]];
  const images: DatasetImage[] = [];
  for (let i = 0; i < 6; i++) {
    const file = `img_${i}.png`;
    if (i !== 4) await writeRgb(path.join(root, file), halves(9, 7, colours[i % 3], colours[i % 3]), 9, 7);
    images.push({ id: i, file, split: 'train', sourceSplit: 'train', captions: [{ id: 2 * i, raw: 'a b', tokens: ['a', 'b'] }, { id: 2 * i + 1, raw: 'a b c', tokens: ['a', 'b', 'c'] }] });
  }
  const dataset = { images, imagesRoot: root };
  const v = buildVocabulary(dataset, { minCount: 1 });
  const rows = encodeCaptions(dataset, v, 'train');
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const batch of imageCaptionBatches(dataset, rows, { batchSize: 2, seed: 5, shuffle: false, image: { size: 4, normalisation: 'zero-to-one' } })) {
      assert.deepEqual(batch.pixels.shape, [2, 4, 4, 3]);
      batch.images.forEach((k, b) => {
        const first = Array.from(batch.pixels.data.subarray(b * 48, b * 48 + 3));
        assert.deepEqual(first, colours[k % 3].map((c) => c / 255), `caption ${b} sees its own image`);
      });
      const before = tf.memory().numTensors;
      const tensors = batchTensors(batch);
      assert.deepEqual([tensors.ids.shape, tensors.ids.dtype, tensors.images?.shape], [batch.shape, 'int32', [2, 4, 4, 3]]);
      assert.deepEqual(Array.from(await tensors.lengths.data()), Array.from(batch.lengths));
      tf.dispose(Object.values(tensors));
      assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
      seen.push(batch.index);
    }
  }, /image not found: .*img_4\.png/);
  assert.deepEqual(seen, [0, 1, 2, 3], 'the batches before the missing image were delivered');
});
