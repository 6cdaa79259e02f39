// The pretrained-encoder loader on the MobileNetV2 shipped inside nsfwjs (offline), the
// feature cache (hits counted, not timed; keyed by path under the images root, or content),
// adaptive pooling and the float16 codec.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';

import { selectBackend } from '../../src/compute/backend';
import { extractFeatures, FeatureCache } from '../../src/encoders/feature-cache';
import { loadFeatureInputs } from '../../src/encoders/feature-inputs';
import { decodeHalf, encodeHalf, fromHalf, toHalf } from '../../src/encoders/float16';
import { adaptiveAveragePool } from '../../src/encoders/feature-entry';
import { type FrozenEncoder, loadPretrainedEncoder } from '../../src/encoders/pretrained';

let dir: string;
let mobilenet: FrozenEncoder;

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'captioning-encoders-'));
  mobilenet = await loadPretrainedEncoder({ model: 'nsfwjs:mobilenet_v2', format: 'layers', layer: 'out_relu', inputSize: 224, normalisation: 'minus-one-to-one' });
});

after(() => {
  mobilenet?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A small PNG: a coloured square on grey. */
async function png(file: string, colour: [number, number, number]): Promise<string> {
  const side = 48;
  const pixels = Buffer.alloc(side * side * 3, 128);
  for (let y = 12; y < 36; y++) for (let x = 12; x < 36; x++) pixels.set(colour, (y * side + x) * 3);
  await sharp(pixels, { raw: { width: side, height: side, channels: 3 } }).png().toFile(file);
  return file;
}

describe('pretrained encoders', () => {
  test("nsfwjs's MobileNetV2 loads offline from its JS-module shards and gives [1, 7, 7, 1280] at 224 px", () => {
    const x = tf.randomUniform([1, 224, 224, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
    const y = mobilenet.run(x);
    assert.deepEqual(y.shape, [1, 7, 7, 1280]);
    assert.deepEqual(mobilenet.layerGrid, [7, 7]);
    assert.equal(mobilenet.featureDim, 1280);
    const values = y.dataSync();
    assert.ok(values.every((v) => v >= 0 && Number.isFinite(v)), 'out_relu is a ReLU: no negative values');
    assert.ok(values.some((v) => v > 0));
    assert.match(mobilenet.id, /^layers:out_relu:s224:minus-one-to-one:rgb:centre-crop:g7x7:[0-9a-f]{16}$/);
    tf.dispose([x, y]);
  });

  test('the cut model runs at another input size (fully convolutional) and pools to a grid', async () => {
    const small = await loadPretrainedEncoder({ model: 'nsfwjs:mobilenet_v2', format: 'layers', layer: 'block_13_expand_relu', inputSize: 96, normalisation: 'minus-one-to-one', grid: 4 });
    const y = small.run(tf.zeros([2, 96, 96, 3]) as tf.Tensor4D);
    assert.deepEqual(y.shape, [2, 6, 6, 576]);
    assert.deepEqual(small.grid, [4, 4]);
    assert.notEqual(small.id, mobilenet.id);
    y.dispose();
    small.dispose();
  });

  test("a graph model (nsfwjs's mobilenet_v2_mid) is executed up to the named node", async () => {
    const node = 'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/MobilenetV2/Conv_1/Relu6';
    const graph = await loadPretrainedEncoder({ model: 'nsfwjs:mobilenet_v2_mid', format: 'graph', layer: node, inputSize: 224, normalisation: 'zero-to-one' });
    const y = graph.run(tf.zeros([1, 224, 224, 3]) as tf.Tensor4D);
    assert.deepEqual(y.shape, [1, 7, 7, 1792]); // a MobileNetV2 of width 1.4
    assert.deepEqual([graph.layerGrid, graph.featureDim], [[7, 7], 1792]);
    assert.match(graph.id, /^graph:/);
    y.dispose();
    graph.dispose();
  });

  test('an unknown layer or model is an error naming it', async () => {
    await assert.rejects(() => loadPretrainedEncoder({ model: 'nsfwjs:mobilenet_v2', format: 'layers', layer: 'no_such_layer', inputSize: 224, normalisation: 'imagenet' }), /no layer "no_such_layer"; the last layers are .*out_relu/);
    await assert.rejects(() => loadPretrainedEncoder({ model: 'nsfwjs:resnet', format: 'layers', layer: 'x', inputSize: 224, normalisation: 'imagenet' }), /nsfwjs has no model "resnet"; it has .*mobilenet_v2/);
    await assert.rejects(() => loadPretrainedEncoder({ model: path.join(dir, 'missing'), format: 'layers', layer: 'x', inputSize: 224, normalisation: 'imagenet' }), /no model.json/);
  });

  test('features are computed once and then read from the cache (counted, not timed); moving the images keeps it', async () => {
    const images = path.join(dir, 'images');
    fs.mkdirSync(images);
    const files = [await png(path.join(images, 'a.png'), [220, 30, 30]), await png(path.join(images, 'b.png'), [30, 30, 220]), await png(path.join(images, 'c.png'), [30, 200, 30])];
    const dataset = { name: 'three', imagesRoot: images, images: files.map((f, i) => ({ id: i, file: path.basename(f), split: 'train' as const, sourceSplit: 'train', captions: [] })) };
    const cache = new FeatureCache(path.join(dir, 'cache'), mobilenet, dataset, { dtype: 'float16' });
    const lines: string[] = [];
    const first = await extractFeatures(mobilenet, cache, [0, 1], { batchSize: 2, log: (l) => lines.push(l), progressEvery: 1 });
    assert.deepEqual([first.computed, first.cached], [2, 0]);
    assert.ok(lines.some((l) => /2\/2 images, .* images\/s, ETA 0 s/.test(l)), lines.join('\n'));
    const second = await extractFeatures(mobilenet, cache, [0, 1, 2], { batchSize: 2, log: null });
    assert.deepEqual([second.computed, second.cached], [1, 2]);
    const third = await extractFeatures(mobilenet, cache, [0, 1, 2], { batchSize: 2, log: null });
    assert.deepEqual([third.computed, third.cached], [0, 3]);
    // The key is the path under the images root; the cached grid is the encoder's output (to float16 precision) as [P, D].
    assert.equal(cache.keyOf(0), 'a.png');
    const stored = cache.read(cache.keyOf(0))!;
    assert.equal(stored.length, 49 * 1280);
    const { loadImageBatch } = await import('../../src/data/images');
    const batch = await loadImageBatch([files[0]], { size: 224, normalisation: 'minus-one-to-one' });
    const direct = tf.tidy(() => mobilenet.run(tf.tensor4d(batch.data, batch.shape)).dataSync());
    let maxRel = 0;
    for (let i = 0; i < direct.length; i++) maxRel = Math.max(maxRel, Math.abs(direct[i] - stored[i]) / Math.max(1, Math.abs(direct[i])));
    assert.ok(maxRel < 2e-3, `float16 round trip error ${maxRel}`);
    // Moving the images folder keeps every entry: same namespace, nothing recomputed.
    const moved = path.join(dir, 'moved-images');
    fs.renameSync(images, moved);
    const movedDataset = { ...dataset, imagesRoot: moved };
    const movedCache = new FeatureCache(path.join(dir, 'cache'), mobilenet, movedDataset, { dtype: 'float16' });
    assert.equal(movedCache.entries, cache.entries);
    const fourth = await extractFeatures(mobilenet, movedCache, [0, 1, 2], { batchSize: 2, log: null });
    assert.deepEqual([fourth.computed, fourth.cached], [0, 3]);
    // Content keys: an edited image is a miss.
    const byContent = new FeatureCache(path.join(dir, 'cache'), mobilenet, movedDataset, { dtype: 'float16', key: 'content' });
    assert.deepEqual([(await extractFeatures(mobilenet, byContent, [0, 1, 2], { log: null })).computed, (await extractFeatures(mobilenet, byContent, [0, 1, 2], { log: null })).computed], [3, 0]);
    await png(path.join(moved, 'b.png'), [250, 250, 20]);
    const edited = new FeatureCache(path.join(dir, 'cache'), mobilenet, movedDataset, { dtype: 'float16', key: 'content' });
    const fifth = await extractFeatures(mobilenet, edited, [0, 1, 2], { log: null });
    assert.deepEqual([fifth.computed, fifth.cached], [1, 2]);
    // In memory for training: [P, D] per image.
    const inputs = await loadFeatureInputs(movedCache, [0, 2]);
    assert.deepEqual(inputs.shape, [49, 1280]);
    assert.equal((await inputs.read([2, 0])).length, 2 * 49 * 1280);
    // Another dtype goes to another folder, not mixed.
    const other = new FeatureCache(path.join(dir, 'cache'), mobilenet, movedDataset, { dtype: 'float32' });
    assert.notEqual(other.folder, cache.folder);
  });
});

describe('helpers', () => {
  test('float16 round trip: exact for representable values, rounds to nearest even', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8, 1024.5]) assert.equal(fromHalf(toHalf(v)), v === 1024.5 ? 1024 : v);
    assert.equal(fromHalf(toHalf(1e6)), Infinity);
    assert.equal(fromHalf(toHalf(1 + 2 ** -11)), 1); // tie to even
    assert.equal(fromHalf(toHalf(1 + 3 * 2 ** -11)), 1 + 2 ** -9);
    const xs = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10);
    const back = decodeHalf(encodeHalf(xs));
    xs.forEach((x, i) => assert.ok(Math.abs(x - back[i]) <= Math.abs(x) * 2 ** -11 + 1e-7));
  });

  test('adaptive average pooling matches PyTorch windows (2x2 -> 3x3 and 4x4 -> 2x2)', () => {
    const grid = Float32Array.from([1, 2, 3, 4]); // [2, 2, 1]
    assert.deepEqual(Array.from(adaptiveAveragePool(grid, [2, 2, 1], [3, 3])), [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
    const g4 = Float32Array.from({ length: 16 }, (_, i) => i); // [4, 4, 1]
    assert.deepEqual(Array.from(adaptiveAveragePool(g4, [4, 4, 1], [2, 2])), [2.5, 4.5, 10.5, 12.5]);
  });
});
