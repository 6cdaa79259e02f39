// Image decoding with sharp: odd sizes, greyscale (8 and 16 bit), RGBA, CMYK, EXIF
// orientation, centre-crop versus stretch, the normalisation presets, tensors without
// leaks, and clear errors for missing and corrupt files.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';

import { decodeRgb, imageDataUri, loadImage, loadImageBatch, loadImageTensor, NORMALISATIONS, resolveNormalisation } from '../../src/data/images';
import { halves, tempDir, writeRgb } from './helpers';

let dir: string;
const file = (name: string) => path.join(dir, name);

/** Pixel (x, y) of a [H, W, 3] float array. */
function at(data: Float32Array, width: number, x: number, y: number): number[] {
  const o = (y * width + x) * 3;
  return [data[o], data[o + 1], data[o + 2]];
}

function close(actual: number[], expected: number[], tolerance: number, what: string): void {
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= tolerance, `${what}: got ${actual.map((a) => a.toFixed(3))}, expected ${expected}`));
}

before(async () => {
  dir = tempDir('decode');
  // Odd-sized RGB JPEG and PNG: left half red, right half blue.
  await writeRgb(file('odd.jpg'), halves(37, 23, [255, 0, 0], [0, 0, 255]), 37, 23);
  await writeRgb(file('odd.png'), halves(37, 23, [255, 0, 0], [0, 0, 255]), 37, 23);
  // 8-bit greyscale PNG, value 100 everywhere.
  await sharp(Buffer.alloc(19 * 31, 100), { raw: { width: 19, height: 31, channels: 1 } }).toColourspace('b-w').png().toFile(file('grey8.png'));
  // 16-bit greyscale PNG: left half 65535 (white), right half 16384 (a quarter).
  const grey16 = Buffer.alloc(10 * 6 * 2);
  for (let y = 0; y < 6; y++) for (let x = 0; x < 10; x++) grey16.writeUInt16LE(x < 5 ? 65535 : 16384, (y * 10 + x) * 2);
  await sharp(grey16, { raw: { width: 10, height: 6, channels: 1, premultiplied: false } }).toColourspace('grey16').png().toFile(file('grey16.png'));
  // RGBA PNG: opaque red, then transparent green, 2 x 1.
  await sharp(Buffer.from([255, 0, 0, 255, 0, 255, 0, 0]), { raw: { width: 2, height: 1, channels: 4 } }).png().toFile(file('rgba.png'));
  // JPEG stored 4 x 2 (red left, blue right) with EXIF orientation 6 (rotate 90 degrees clockwise to view).
  await sharp(halves(4, 2, [255, 0, 0], [0, 0, 255]), { raw: { width: 4, height: 2, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(file('exif6.jpg'));
  // CMYK JPEG.
  await sharp(halves(8, 8, [0, 128, 255], [255, 128, 0]), { raw: { width: 8, height: 8, channels: 3 } }).toColourspace('cmyk').jpeg().toFile(file('cmyk.jpg'));
  // 40 x 20: red quarter, green half, blue quarter.
  const bands = Buffer.alloc(40 * 20 * 3);
  for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) bands.set(x < 10 ? [255, 0, 0] : x < 30 ? [0, 255, 0] : [0, 0, 255], (y * 40 + x) * 3);
  await writeRgb(file('bands.png'), bands, 40, 20);
  // Corrupt files: random bytes, and a JPEG cut in half.
  fs.writeFileSync(file('garbage.jpg'), Buffer.from('this is not an image at all'));
  const whole = fs.readFileSync(file('odd.jpg'));
  fs.writeFileSync(file('truncated.jpg'), whole.subarray(0, Math.floor(whole.length / 2)));
});

test('odd-sized JPEG and PNG decode to [H, W, 3] at their own size when not resized', async () => {
  for (const name of ['odd.jpg', 'odd.png']) {
    const { pixels, width, height, source } = await decodeRgb(file(name));
    assert.deepEqual([width, height, pixels.length], [37, 23, 37 * 23 * 3]);
    assert.equal(source.format, name.endsWith('jpg') ? 'jpeg' : 'png');
    const left = Array.from(pixels.subarray(0, 3));
    const right = Array.from(pixels.subarray((23 * 37 - 1) * 3));
    close(left, [255, 0, 0], 12, `${name} left`);
    close(right, [0, 0, 255], 12, `${name} right`);
  }
});

test('greyscale 8 and 16 bit become three equal channels scaled to 8 bits', async () => {
  const grey8 = await loadImage(file('grey8.png'), { size: { height: 31, width: 19 }, normalisation: 'zero-to-one' });
  assert.equal(grey8.source.channels, 1);
  close(at(grey8.data, 19, 3, 3), [100 / 255, 100 / 255, 100 / 255], 1e-6, 'grey8');

  const grey16 = await loadImage(file('grey16.png'), { size: { height: 6, width: 10 }, resize: 'stretch', normalisation: 'zero-to-one' });
  assert.equal(grey16.source.depth, 'ushort', 'the fixture really is 16-bit');
  close(at(grey16.data, 10, 0, 0), [1, 1, 1], 1 / 255, 'grey16 white');
  close(at(grey16.data, 10, 9, 5), [0.25, 0.25, 0.25], 2 / 255, 'grey16 quarter');
});

test('RGBA: alpha is dropped by default, or flattened onto a background', async () => {
  const dropped = await loadImage(file('rgba.png'), { size: { height: 1, width: 2 }, resize: 'stretch', normalisation: 'zero-to-one' });
  assert.equal(dropped.source.channels, 4);
  assert.deepEqual(Array.from(dropped.data), [1, 0, 0, 0, 1, 0]);
  const flattened = await loadImage(file('rgba.png'), { size: { height: 1, width: 2 }, resize: 'stretch', normalisation: 'zero-to-one', alpha: 'flatten', background: '#ffffff' });
  assert.deepEqual(Array.from(flattened.data), [1, 0, 0, 1, 1, 1]);
});

test('EXIF orientation is applied: a 4 x 2 image with orientation 6 is seen as 2 x 4, red on top', async () => {
  const { pixels, width, height, source } = await decodeRgb(file('exif6.jpg'));
  assert.equal(source.orientation, 6);
  assert.deepEqual([width, height], [2, 4]);
  close(Array.from(pixels.subarray(0, 3)), [255, 0, 0], 12, 'top');
  close(Array.from(pixels.subarray(pixels.length - 3)), [0, 0, 255], 12, 'bottom');
});

test('CMYK JPEG converts to three sRGB channels', async () => {
  const { pixels, source } = await decodeRgb(file('cmyk.jpg'));
  assert.equal(source.channels, 4);
  assert.equal(pixels.length, 8 * 8 * 3);
});

test('centre-crop keeps the middle; stretch keeps everything', async () => {
  const crop = await loadImage(file('bands.png'), { size: 10, normalisation: 'zero-to-one' });
  assert.deepEqual([crop.height, crop.width], [10, 10]);
  // Resampling (lanczos3) lets a little of the cropped-off bands bleed into the edge pixels.
  close(at(crop.data, 10, 0, 5), [0, 1, 0], 0.1, 'crop left edge is green');
  close(at(crop.data, 10, 9, 5), [0, 1, 0], 0.1, 'crop right edge is green');
  const stretch = await loadImage(file('bands.png'), { size: 10, resize: 'stretch', normalisation: 'zero-to-one' });
  close(at(stretch.data, 10, 0, 5), [1, 0, 0], 0.05, 'stretch left edge is red');
  close(at(stretch.data, 10, 9, 5), [0, 0, 1], 0.05, 'stretch right edge is blue');
  const tall = await loadImage(file('bands.png'), { size: { height: 12, width: 5 }, normalisation: 'zero-to-one' });
  assert.deepEqual([tall.height, tall.width], [12, 5]);
});

test('normalisation presets: (x / 255 - mean) / std per channel', async () => {
  // Pure red pixels: (1, 0, 0) in [0, 1].
  const cases: [string, number[]][] = [
    ['zero-to-one', [1, 0, 0]],
    ['minus-one-to-one', [1, -1, -1]],
    ['imagenet', [(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (0 - 0.406) / 0.225]],
  ];
  for (const [name, expected] of cases) {
    const image = await loadImage(file('odd.png'), { size: 8, resize: 'stretch', normalisation: name as 'imagenet' });
    close(at(image.data, 8, 0, 0), expected, 1e-5, name);
  }
  const custom = await loadImage(file('odd.png'), { size: 8, resize: 'stretch', normalisation: { mean: [0.5, 0, 0], std: [0.25, 1, 1] } });
  close(at(custom.data, 8, 0, 0), [2, 0, 0], 1e-5, 'custom');
  assert.throws(() => resolveNormalisation('caffe' as 'imagenet'), /"caffe" is not a preset; use one of imagenet, minus-one-to-one, zero-to-one/);
  assert.equal(Object.keys(NORMALISATIONS).length, 3);
});

test('tensors: one image [H, W, 3] and a batch [B, H, W, 3], no tensors leaked', async () => {
  const before = tf.memory().numTensors;
  const image = await loadImageTensor(file('odd.jpg'), { size: 16 });
  assert.deepEqual(image.shape, [16, 16, 3]);
  assert.equal(image.dtype, 'float32');
  image.dispose();
  const batch = await loadImageBatch([file('odd.jpg'), file('grey8.png'), file('rgba.png'), file('exif6.jpg')], { size: 12, normalisation: 'zero-to-one' });
  assert.deepEqual(batch.shape, [4, 12, 12, 3]);
  assert.equal(batch.data.length, 4 * 12 * 12 * 3);
  // Image 1 (grey8) sits at its own offset of the batch.
  close(Array.from(batch.data.subarray(12 * 12 * 3, 12 * 12 * 3 + 3)), [100 / 255, 100 / 255, 100 / 255], 1e-6, 'batch image 1');
  assert.equal(tf.memory().numTensors, before);
});

test('a missing, a garbage and a truncated file are errors that name the path', async () => {
  await assert.rejects(loadImage(file('nope.jpg'), { size: 8 }), new RegExp(`image not found: ${file('nope.jpg').replace(/[.\\/]/g, '\\$&')}`));
  await assert.rejects(loadImage(file('garbage.jpg'), { size: 8 }), /cannot decode image .*garbage\.jpg: .*unsupported image format/);
  await assert.rejects(loadImage(file('truncated.jpg'), { size: 8 }), /cannot decode image .*truncated\.jpg: /);
  await assert.rejects(loadImageBatch([file('odd.jpg'), file('nope.png')], { size: 8 }), /image not found: .*nope\.png/);
  await assert.rejects(loadImage(file('odd.jpg'), { size: 0 }), /height must be a whole number >= 1, got 0/);
});

test('imageDataUri makes a small PNG for figures', async () => {
  const { uri, width, height } = await imageDataUri(file('bands.png'), { maxSide: 20 });
  assert.deepEqual([width, height], [20, 10]);
  assert.match(uri, /^data:image\/png;base64,/);
  const decoded = await sharp(Buffer.from(uri.split(',')[1], 'base64')).metadata();
  assert.deepEqual([decoded.width, decoded.height], [20, 10]);
});
