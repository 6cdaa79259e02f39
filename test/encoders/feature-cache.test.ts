// The feature cache without a model: entries written straight under a dataset image's key
// (as a benchmark writes random paper-shaped features), stored at the native grid and pooled
// on load, keyed by the path under the images root within the dataset's namespace, each
// entry used only for the key in its header; the prefetching disk reader (reads counted, not
// timed) and the trainer's input wait.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { selectBackend } from '../../src/compute/backend';
import type { DatasetImage } from '../../src/data/dataset';
import { makeCaptionBatch } from '../../src/data/batches';
import { FeatureCache, imageListFingerprint } from '../../src/encoders/feature-cache';
import { DiskFeatureInputs, loadFeatureInputs } from '../../src/encoders/feature-inputs';
import { decodeHalf, encodeHalf } from '../../src/encoders/float16';
import { adaptiveAveragePool } from '../../src/encoders/feature-entry';
import { Trainer } from '../../src/train/trainer';
import { tinyCaptioner, tinyDataset, tinyTrainerOptions } from '../model/helpers';

let tmp: string;
before(async () => {
  await selectBackend({ force: 'wasm', log: null });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'captioning-feature-cache-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** An encoder whose layer gives a 4 x 4 x 3 grid, served pooled to 2 x 2 (P = 4, D = 3: tinyCaptioner's). */
const ENCODER = { nativeId: 'test:layer:n4x4:0123', layerGrid: [4, 4] as [number, number], grid: [2, 2] as [number, number], featureDim: 3 };

function nativeGrid(i: number): Float32Array {
  return Float32Array.from({ length: 16 * 3 }, (_, k) => Math.sin(i * 7.1 + k * 0.37) * 3);
}

function datasetOf(images: DatasetImage[], root = '/nowhere/images', name = 'tiny') {
  return { name, imagesRoot: root, images };
}

/** A cache of tinyDataset's 8 images (no image files: entries written by key). */
async function filledCache(dir: string, dtype: 'float16' | 'float32') {
  const { images } = tinyDataset();
  const cache = new FeatureCache(path.join(tmp, dir), ENCODER, datasetOf(images), { dtype });
  for (let i = 0; i < images.length; i++) await cache.write(cache.keyOf(i), nativeGrid(i));
  return cache;
}

describe('feature cache', () => {
  test('entries are stored at the native grid and pooled to the encoder grid on load; encoder.json records the native grid', async () => {
    const cache = await filledCache('pooled', 'float32');
    assert.equal(cache.keyOf(3), 'img3.png'); // the path under the images root
    assert.deepEqual([cache.nativeShape, cache.shape], [[16, 3], [4, 3]]);
    assert.deepEqual(Array.from(cache.readNative('img3.png')!), Array.from(nativeGrid(3)));
    assert.deepEqual(Array.from(cache.read('img3.png')!), Array.from(adaptiveAveragePool(nativeGrid(3), [4, 4, 3], [2, 2])));
    const record = JSON.parse(fs.readFileSync(path.join(cache.folder, 'encoder.json'), 'utf8'));
    assert.deepEqual([record.encoder, record.nativeGrid, record.featureDim, record.dtype], [ENCODER.nativeId, [4, 4], 3, 'float32']);
    // A cache serving another grid from the same native features shares the folder.
    const sameNative = new FeatureCache(path.join(tmp, 'pooled'), { ...ENCODER, grid: [4, 4] }, cache.dataset, { dtype: 'float32' });
    assert.equal(sameNative.entries, cache.entries);
    assert.deepEqual(Array.from(sameNative.read('img3.png')!), Array.from(nativeGrid(3)));
    await assert.rejects(() => cache.write('img0.png', new Float32Array(4 * 3)), /expected the native \[4,4\] x 3 = 48/);
  });

  test('moving the images keeps the namespace; another image list gets its own; an entry serves only its own key', async () => {
    const cache = await filledCache('keys', 'float16');
    const { images } = tinyDataset();
    const moved = new FeatureCache(path.join(tmp, 'keys'), ENCODER, datasetOf(images, '/elsewhere/images'), { dtype: 'float16' });
    assert.equal(moved.entries, cache.entries);
    assert.ok(moved.has('img0.png'));
    // Splits and captions are not the image list: another split leaves the namespace as it is.
    assert.equal(imageListFingerprint(datasetOf(images.map((im) => ({ ...im, split: 'val' as const, captions: [] })))), imageListFingerprint(cache.dataset));
    // Same relative paths, another dataset (name, or scenes drawn differently): another namespace, no hits.
    for (const other of [datasetOf(images, undefined, 'other'), datasetOf(images.map((im) => ({ ...im, extra: { objects: [im.id] } })))]) {
      const c = new FeatureCache(path.join(tmp, 'keys'), ENCODER, other, { dtype: 'float16' });
      assert.notEqual(c.entries, cache.entries);
      assert.equal(c.read('img0.png'), undefined);
    }
    // A file found under a key is used for that key only (the key is in its header).
    fs.copyFileSync(cache.fileOf('img0.png'), cache.fileOf('img1.png'));
    assert.equal(cache.has('img1.png'), false);
    assert.equal(cache.read('img1.png'), undefined);
    assert.equal(await cache.readAsync('img1.png'), undefined);
    // float16 storage: the pooled grid of the rounded native values.
    const rounded = decodeHalf(encodeHalf(nativeGrid(2)));
    assert.deepEqual(Array.from(cache.read('img2.png')!), Array.from(adaptiveAveragePool(rounded, [4, 4, 3], [2, 2])));
    // A damaged entry is an error naming its file.
    fs.writeFileSync(cache.fileOf('img2.png'), fs.readFileSync(cache.fileOf('img2.png')).subarray(0, 60));
    assert.throws(() => cache.read('img2.png'), (e: Error) => e.message.includes(cache.fileOf('img2.png')) && /delete it to recompute/.test(e.message));
  });

  test('the disk reader equals the stored values and serves a prefetched batch without reading it again', async () => {
    const cache = await filledCache('disk', 'float16');
    const memory = await loadFeatureInputs(cache, [0, 1, 2, 3, 4, 5, 6, 7]);
    const disk = new DiskFeatureInputs(cache);
    assert.deepEqual(disk.shape, [4, 3]);
    const reads0 = cache.diskReads;
    assert.deepEqual(Array.from(await disk.read([5, 1])), Array.from(await memory.read([5, 1])));
    assert.equal(cache.diskReads - reads0, 2);
    disk.prefetch([2, 3, 4]);
    disk.prefetch([2, 3, 4]); // the same batch again: still one read
    const prefetched = await disk.read([2, 3, 4]);
    assert.deepEqual(Array.from(prefetched), Array.from(await memory.read([2, 3, 4])));
    assert.equal(cache.diskReads - reads0, 5, 'the prefetched batch was read once');
    // Another batch than the one prefetched is read now; the prefetch waits for its own read.
    disk.prefetch([6]);
    await disk.read([7]);
    assert.deepEqual(Array.from(await disk.read([6])), Array.from(await memory.read([6])));
    assert.equal(cache.diskReads - reads0, 7);
    assert.deepEqual(disk.stats, { batches: 4, prefetched: 2, prefetchHits: 2 });
    // The worker thread and the main thread read the same values.
    const inThread = new DiskFeatureInputs(cache, { worker: false });
    assert.deepEqual(Array.from(await inThread.read([5, 1, 6])), Array.from(await disk.read([5, 1, 6])));
    await disk.close();
    // A missing entry is an error naming the image.
    const { images } = tinyDataset();
    const empty = new DiskFeatureInputs(new FeatureCache(path.join(tmp, 'empty'), ENCODER, datasetOf(images), { dtype: 'float16' }));
    await assert.rejects(() => empty.read([0]), /no features for img0.png .*run extractFeatures first/);
  });

  test("the trainer prefetches the next step's images, trains as on memory inputs, and reports its input wait", async () => {
    const cache = await filledCache('trainer', 'float16');
    const data = tinyDataset();
    const options = tinyTrainerOptions({ batchSize: 4 });
    const memory = new Trainer(tinyCaptioner({ V: data.vocab.size, seed: 3 }), { captions: data.train, inputs: await loadFeatureInputs(cache, [0, 1, 2, 3, 4, 5, 6, 7]) }, options);
    const disk = new DiskFeatureInputs(cache);
    const trainer = new Trainer(tinyCaptioner({ V: data.vocab.size, seed: 3 }), { captions: data.train, inputs: disk }, options);
    const plan = trainer.plan(0);
    assert.ok(plan.length >= 3);
    const reads0 = cache.diskReads;
    const [a, b] = [await memory.trainEpoch(), await trainer.trainEpoch()];
    assert.deepEqual([b.loss, b.crossEntropy, b.attention, b.steps], [a.loss, a.crossEntropy, a.attention, a.steps]);
    const weights = [memory.snapshot().weights, trainer.snapshot().weights];
    for (const [name, w] of weights[0]) assert.deepEqual(Array.from(weights[1].get(name)!.data), Array.from(w.data), name);
    // Every step after the first found its images prefetched, and each image of a step was read once.
    assert.deepEqual(disk.stats, { batches: plan.length, prefetched: plan.length - 1, prefetchHits: plan.length - 1 });
    const distinct = plan.reduce((n, rows) => n + new Set(makeCaptionBatch(data.train, rows).images).size, 0);
    assert.equal(cache.diskReads - reads0, distinct);
    assert.ok(Number.isFinite(b.inputWaitSeconds) && b.inputWaitSeconds >= 0 && b.inputWaitSeconds <= b.seconds, `input wait ${b.inputWaitSeconds} s of ${b.seconds} s`);
    assert.ok(a.inputWaitSeconds >= 0);
    memory.dispose();
    trainer.dispose();
  });
});
