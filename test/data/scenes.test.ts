// The generated scenes dataset: byte-identical for one seed, different for another, read by
// the Karpathy loader unchanged, and every caption checked against the scene's ground truth
// by a parser written here, independently of the generator's templates.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';

import { type CaptionDataset, countSplits } from '../../src/data/dataset';
import { loadKarpathy } from '../../src/data/karpathy';
import { sceneAnnotations, type SceneAnnotations } from '../../src/data/scenes/annotations';
import { encodePng, ensureScenes, generateScenes, readScenesManifest, SCENES_QUICK } from '../../src/data/scenes/generate';
import { tempDir } from './helpers';

const PARAMS = { images: 40, size: 64, seed: 11, occlusion: 0.3 };
let work: string;
let first: string;
let dataset: CaptionDataset;

/** Every file under a folder, relative path -> bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else files.set(rel, fs.readFileSync(path.join(dir, rel)));
    }
  };
  walk('');
  return files;
}

before(async () => {
  work = tempDir('scenes');
  first = path.join(work, 'first');
  await generateScenes(first, PARAMS, { log: null });
  dataset = loadKarpathy(path.join(first, 'dataset_scenes.json'), { imagesRoot: first });
});

test('one seed gives byte-identical files; another seed gives other files', async () => {
  const second = path.join(work, 'second');
  await generateScenes(second, PARAMS, { log: null });
  const a = snapshot(first);
  const b = snapshot(second);
  assert.equal(a.size, PARAMS.images + 2, 'the images, the dataset and the manifest');
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name)!), `${name} differs between two runs with one seed`);

  const other = path.join(work, 'other-seed');
  await generateScenes(other, { ...PARAMS, seed: 12 }, { log: null });
  const c = snapshot(other);
  assert.ok(!a.get('dataset_scenes.json')!.equals(c.get('dataset_scenes.json')!));
  const differing = [...a.keys()].filter((name) => name.endsWith('.png') && !a.get(name)!.equals(c.get(name)!));
  assert.equal(differing.length, PARAMS.images, 'every image differs');
  assert.notEqual(readScenesManifest(first)!.pixelsSha256, readScenesManifest(other)!.pixelsSha256);
});

test('PNG encoding by sharp is deterministic for the same pixels', async () => {
  const pixels = Buffer.alloc(32 * 32 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919) % 251;
  const [x, y] = await Promise.all([encodePng(pixels, 32, 32), encodePng(pixels, 32, 32)]);
  assert.ok(x.equals(y));
  const meta = await sharp(x).metadata();
  assert.deepEqual([meta.format, meta.width, meta.channels, meta.exif, meta.icc], ['png', 32, 3, undefined, undefined], 'no metadata that could vary');
});

test('the Karpathy loader reads it unchanged: splits, five captions, 64 px RGB PNGs', async () => {
  assert.equal(dataset.name, 'scenes');
  assert.deepEqual(countSplits(dataset.images), { train: { images: 32, captions: 160 }, val: { images: 4, captions: 20 }, test: { images: 4, captions: 20 } });
  const manifest = readScenesManifest(first)!;
  assert.equal(manifest.fingerprint, dataset.fingerprint);
  assert.deepEqual(manifest.params, { ...PARAMS, captionsPerImage: 5 });
  for (const image of dataset.images.slice(0, 5)) {
    const meta = await sharp(path.join(first, image.file)).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [64, 64, 3]);
    assert.equal(new Set(image.captions.map((c) => c.tokens.join(' '))).size, 5, 'five different captions');
  }
});

test('the data is varied: all shapes, colours and sizes, 1-3 objects, several backgrounds', () => {
  const objects = dataset.images.flatMap((image) => sceneAnnotations(image)!.objects);
  assert.deepEqual(new Set(objects.map((o) => o.shape)).size, 6);
  assert.deepEqual(new Set(objects.map((o) => o.colour)).size, 6);
  assert.deepEqual([...new Set(objects.map((o) => o.size))].sort(), ['large', 'small']);
  const counts = new Set(dataset.images.map((image) => sceneAnnotations(image)!.objects.length));
  assert.deepEqual([...counts].sort(), [1, 2, 3]);
  assert.ok(new Set(dataset.images.map((image) => sceneAnnotations(image)!.background?.kind)).size >= 3);
  const distinctWords = new Set(dataset.images.flatMap((image) => image.captions.flatMap((c) => c.tokens)));
  assert.ok(distinctWords.size >= 40, `vocabulary of ${distinctWords.size} words`);
});

// ---- An independent reading of the captions -------------------------------------------

const COLOUR_WORDS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'];
const SHAPE_NOUNS: Record<string, string> = { circle: 'circle', disc: 'circle', square: 'square', box: 'square', triangle: 'triangle', star: 'star', cross: 'cross', plus: 'cross', diamond: 'diamond', rhombus: 'diamond' };
const SIZE_ADJECTIVES: Record<string, string> = { large: 'large', big: 'large', small: 'small', little: 'small', tiny: 'small' };
const BACKGROUND_ADJECTIVES: Record<string, string> = { noisy: 'noise', speckled: 'noise', striped: 'stripes', checkered: 'checks', checked: 'checks', shaded: 'gradient' };
const NUMBERS: Record<string, number> = { one: 1, single: 1, two: 2, three: 3 };

interface Phrase {
  tokens: number[];
  colour: string;
  shape: string;
  size?: string;
}

/** Noun phrases: [size] colour shape-noun ('plus sign' is two words). */
function phrases(tokens: string[]): Phrase[] {
  const found: Phrase[] = [];
  tokens.forEach((word, i) => {
    if (!COLOUR_WORDS.includes(word)) return;
    const noun = tokens[i + 1];
    assert.ok(noun in SHAPE_NOUNS, `colour "${word}" is followed by "${noun}", not a shape, in "${tokens.join(' ')}"`);
    const size = SIZE_ADJECTIVES[tokens[i - 1]];
    const end = noun === 'plus' ? i + 2 : i + 1;
    if (noun === 'plus') assert.equal(tokens[i + 2], 'sign');
    const start = size ? i - 1 : i;
    found.push({ tokens: Array.from({ length: end - start + 1 }, (_, k) => start + k), colour: word, shape: SHAPE_NOUNS[noun], ...(size ? { size } : {}) });
  });
  // Every shape noun belongs to a phrase.
  tokens.forEach((word, i) => {
    if (word in SHAPE_NOUNS) {
      assert.ok(found.some((p) => p.tokens.includes(i)), `shape word "${word}" without a colour in "${tokens.join(' ')}"`);
    }
  });
  return found;
}

type Box = [number, number, number, number];
const leftOf = (a: Box, b: Box) => a[0] + a[2] <= b[0];
const above = (a: Box, b: Box) => a[1] + a[3] <= b[1];

/** Checks what the words between two phrases say about them. */
function checkRelation(words: string[], a: Box, b: Box, caption: string): void {
  const has = (w: string) => words.includes(w);
  if (has('left')) assert.ok(leftOf(a, b), `"${caption}": not left of`);
  if (has('right')) assert.ok(leftOf(b, a), `"${caption}": not right of`);
  if (has('above') || has('over')) assert.ok(above(a, b), `"${caption}": not above`);
  if (has('below') || has('under') || has('beneath')) assert.ok(above(b, a), `"${caption}": not below`);
  if (has('next') || has('beside')) assert.ok(leftOf(a, b) || leftOf(b, a), `"${caption}": not side by side`);
}

function checkCaption(tokens: string[], mentions: { object: number; tokens: number[] }[], truth: SceneAnnotations, size: number): void {
  const caption = tokens.join(' ');
  const found = phrases(tokens);
  // Each phrase names an object of the scene, with its colour and (when said) its size.
  const named = found.map((p) => {
    const index = truth.objects.findIndex((o) => o.shape === p.shape);
    assert.ok(index >= 0, `"${caption}" names a ${p.shape} that is not in the scene`);
    const object = truth.objects[index];
    assert.equal(p.colour, object.colour, `"${caption}": the ${p.shape} is ${object.colour}`);
    if (p.size) assert.equal(p.size, object.size, `"${caption}": the ${p.shape} is ${object.size}`);
    return index;
  });
  // Exactly the objects present: every object named, nothing else.
  assert.deepEqual([...new Set(named)].sort(), truth.objects.map((_, i) => i), `"${caption}" must name every object`);
  // The recorded mentions are exactly these phrases.
  assert.deepEqual(
    mentions.map((m) => [m.object, m.tokens]),
    found.map((p, k) => [named[k], p.tokens]),
    `mentions of "${caption}"`,
  );
  // Numbers count the objects.
  tokens.forEach((word, i) => {
    if (word in NUMBERS && ['shapes', 'objects', 'shape', 'object'].includes(tokens[i + 1])) assert.equal(NUMBERS[word], truth.objects.length, `"${caption}"`);
    if ((word === 'single' || word === 'one') && i === 1) assert.equal(truth.objects.length, 1, `"${caption}"`);
  });
  // Relations between consecutive phrases; "between" over three.
  for (let k = 0; k + 1 < found.length; k++) {
    const words = tokens.slice(found[k].tokens[found[k].tokens.length - 1] + 1, found[k + 1].tokens[0]);
    const a = truth.objects[named[k]].box;
    const b = truth.objects[named[k + 1]].box;
    if (words.includes('between')) {
      const c = truth.objects[named[k + 2]].box;
      assert.ok((leftOf(b, a) && leftOf(a, c)) || (leftOf(c, a) && leftOf(a, b)) || (above(b, a) && above(a, c)) || (above(c, a) && above(a, b)), `"${caption}": not between`);
    } else {
      checkRelation(words, a, b, caption);
    }
  }
  // What follows the last phrase: a region of the image, or the background.
  const tail = tokens.slice(found[found.length - 1].tokens[found[found.length - 1].tokens.length - 1] + 1);
  if (tail.includes('background')) {
    assert.equal(BACKGROUND_ADJECTIVES[tail[tail.indexOf('background') - 1]], truth.background?.kind, `"${caption}": background`);
  } else if (tail.length > 0) {
    const [x, y, w, h] = truth.objects[named[found.length - 1]].box;
    if (tail.includes('left')) assert.ok(x + w <= size / 2, `"${caption}": not on the left`);
    if (tail.includes('right')) assert.ok(x >= size / 2, `"${caption}": not on the right`);
    if (tail.includes('top')) assert.ok(y + h <= size / 2, `"${caption}": not at the top`);
    if (tail.includes('bottom')) assert.ok(y >= size / 2, `"${caption}": not at the bottom`);
    if (tail.includes('middle') || tail.includes('centre')) assert.ok(Math.abs(x + w / 2 - size / 2) <= 0.15 * size && Math.abs(y + h / 2 - size / 2) <= 0.15 * size, `"${caption}": not in the middle`);
  }
}

test('every caption names exactly the objects present, truthfully, with correct mentions', () => {
  let captions = 0;
  const relationWords = new Set<string>();
  for (const image of dataset.images) {
    const truth = sceneAnnotations(image)!;
    image.captions.forEach((caption, j) => {
      checkCaption(caption.tokens, truth.mentions[j], truth, 64);
      for (const w of ['left', 'right', 'above', 'over', 'below', 'under', 'beneath', 'next', 'beside', 'between', 'background', 'top', 'bottom']) {
        if (caption.tokens.includes(w)) relationWords.add(w);
      }
      captions += 1;
    });
  }
  assert.equal(captions, 200);
  assert.ok(relationWords.size >= 6, `the check exercised relations: ${[...relationWords]}`);
});

test('the truth check itself catches a wrong caption', () => {
  const image = dataset.images.find((i) => sceneAnnotations(i)!.objects.length === 2)!;
  const truth = sceneAnnotations(image)!;
  const tokens = [...image.captions[0].tokens];
  const colourAt = tokens.findIndex((t) => COLOUR_WORDS.includes(t));
  tokens[colourAt] = COLOUR_WORDS.find((c) => c !== tokens[colourAt])!;
  assert.throws(() => checkCaption(tokens, truth.mentions[0], truth, 64), /the \w+ is \w+/);
  const [a, b] = truth.objects.map((o) => o.box);
  const lie = leftOf(a, b) ? 'right' : 'left';
  assert.throws(() => checkRelation([lie], a, b, 'made up'), /not (left|right) of/);
});

test('pixels match the ground truth: each visible object has its colour at its centre', async () => {
  let checked = 0;
  for (const image of dataset.images.slice(0, 20)) {
    const truth = sceneAnnotations(image)!;
    const { data } = await sharp(path.join(first, image.file)).raw().toBuffer({ resolveWithObject: true });
    for (const object of truth.objects) {
      if (object.hidden > 0) continue;
      const [x, y, w, h] = object.box;
      const o = (Math.floor(y + h / 2) * 64 + Math.floor(x + w / 2)) * 3;
      const pixel = [data[o], data[o + 1], data[o + 2]];
      pixel.forEach((v, c) => assert.ok(Math.abs(v - object.rgb![c]) <= 30, `${image.file}: ${object.colour} ${object.shape} centre is ${pixel}, expected about ${object.rgb}`));
      checked += 1;
    }
  }
  assert.ok(checked >= 20);
});

test('occluders: none at probability 0; at 1 they overlap their targets and hide at most 70%', async () => {
  const none = path.join(work, 'no-occlusion');
  await generateScenes(none, { ...PARAMS, images: 12, occlusion: 0 }, { log: null });
  const clear = loadKarpathy(path.join(none, 'dataset_scenes.json'), { imagesRoot: none });
  for (const image of clear.images) {
    const truth = sceneAnnotations(image)!;
    assert.equal(truth.occluders.length, 0);
    assert.ok(truth.objects.every((o) => o.hidden === 0));
  }
  const all = path.join(work, 'all-occluded');
  await generateScenes(all, { ...PARAMS, images: 12, occlusion: 1 }, { log: null });
  const hidden = loadKarpathy(path.join(all, 'dataset_scenes.json'), { imagesRoot: all });
  let objects = 0;
  let occluded = 0;
  for (const image of hidden.images) {
    const truth = sceneAnnotations(image)!;
    for (const occluder of truth.occluders) {
      const [ox, oy, ow, oh] = occluder.box;
      const [tx, ty, tw, th] = truth.objects[occluder.target].box;
      assert.ok(ox < tx + tw && tx < ox + ow && oy < ty + th && ty < oy + oh, `${image.file}: occluder misses its target`);
    }
    for (const object of truth.objects) {
      objects += 1;
      if (object.hidden > 0) occluded += 1;
      assert.ok(object.hidden <= 0.7, `${image.file}: ${object.shape} ${object.hidden} hidden`);
    }
  }
  assert.ok(occluded / objects > 0.8, `${occluded} of ${objects} objects partly hidden`);
});

test('ensureScenes generates once, reuses, regenerates on other parameters, and guards foreign folders', async () => {
  const dir = path.join(work, 'ensure', 'scenes');
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const params = { images: 8, size: 48, seed: 2, occlusion: 0 };
  const made = await ensureScenes(dir, params, { log, progressEvery: 4 });
  assert.equal(made.generated, true);
  assert.ok(lines.some((l) => /scenes: 8\/8 images/.test(l)), `progress lines: ${lines}`);
  const reused = await ensureScenes(dir, params, { log });
  assert.equal(reused.generated, false);
  assert.equal(reused.manifest.fingerprint, made.manifest.fingerprint);
  const changed = await ensureScenes(dir, { ...params, seed: 3 }, { log });
  assert.equal(changed.generated, true);
  assert.equal(changed.manifest.params.seed, 3);
  assert.notEqual(changed.manifest.fingerprint, made.manifest.fingerprint);
  assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['scenes'], 'no temporary or old folder is left');
  assert.equal(loadKarpathy(changed.datasetFile, { imagesRoot: changed.imagesRoot }).fingerprint, changed.manifest.fingerprint);

  const foreign = path.join(work, 'foreign');
  fs.mkdirSync(foreign);
  fs.writeFileSync(path.join(foreign, 'precious.txt'), 'keep me');
  await assert.rejects(ensureScenes(foreign, params, { log }), /exists and is not a scenes dataset/);
  assert.ok(fs.existsSync(path.join(foreign, 'precious.txt')));
  await assert.rejects(ensureScenes(dir, { ...params, occlusion: 2 }, { log }), /occlusion must be a probability in \[0, 1\], got 2/);
  assert.deepEqual(Object.keys(SCENES_QUICK).sort(), ['captionsPerImage', 'images', 'occlusion', 'seed', 'size']);
});
