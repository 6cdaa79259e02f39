// COCO caption files: validation errors name the file, the entry and the field; result
// files are checked against the annotations (unknown, duplicated, missing images); subset
// evaluation says so.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import {
  computeCaptionMetrics,
  isMetricScore,
  parseResults,
  readAnnotations,
  readResults,
  scoreResultFile,
  type ImageId,
} from '../../src/metrics';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coco-files-test-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, json: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof json === 'string' ? json : JSON.stringify(json));
  return file;
}

const COCO = {
  images: [
    { id: 3, file_name: 'c.jpg' },
    { id: 1, file_name: 'a.jpg' },
    { id: 2, file_name: 'b.jpg' },
  ],
  annotations: [
    { id: 10, image_id: 1, caption: 'A dog runs on the grass.' },
    { id: 11, image_id: 3, caption: 'Two cats sleep on a bed.' },
    { id: 12, image_id: 1, caption: 'A brown dog running.' },
    { id: 13, image_id: 2, caption: 'A red bus on a street.' },
    { id: 14, image_id: 3, caption: 'Cats sleeping.' },
    { id: 15, image_id: 2, caption: 'A bus parked by the road.' },
  ],
};

const sentence = (sentid: number, raw: string) => ({ sentid, raw, tokens: raw.toLowerCase().replace(/[.]/g, '').split(' ') });
const KARPATHY = {
  images: [
    { imgid: 0, cocoid: 100, filename: 'x.jpg', split: 'train', sentences: [sentence(0, 'A dog.')] },
    { imgid: 1, cocoid: 101, filename: 'y.jpg', split: 'test', sentences: [sentence(1, 'A cat on a mat.'), sentence(2, 'A cat.')] },
    { imgid: 2, filename: 'z.jpg', split: 'restval', sentences: [sentence(3, 'A bird flies.')] },
    { imgid: 3, cocoid: 103, filename: 'w.jpg', split: 'test', sentences: [sentence(4, 'A man rides a bike.')] },
  ],
};

test('COCO annotations: images in file order, raw captions grouped per image, no image files needed', () => {
  const a = readAnnotations(write('captions_val2014.json', COCO));
  assert.equal(a.format, 'coco-captions');
  assert.deepEqual(a.images.map((i) => i.id), [3, 1, 2]);
  assert.deepEqual(a.captions.get(1), ['A dog runs on the grass.', 'A brown dog running.']);
  assert.equal(a.images[0].fileName, 'c.jpg');
});

test('annotation errors come from the dataset loaders and name the file, the record and the field', () => {
  const broken = { ...COCO, annotations: [...COCO.annotations, { id: 16, image_id: 1, caption: null }] };
  assert.throws(() => readAnnotations(write('captions_bad.json', broken)), /captions_bad\.json.*annotations\[6\].*caption.*must be a string, found null/s);
});

test('Karpathy files: id is cocoid else imgid, raw sentences, split filter, restval its own split', () => {
  const file = write('dataset_coco.json', KARPATHY);
  const all = readAnnotations(file);
  assert.deepEqual(all.images.map((i) => i.id), [100, 101, 2, 103]);
  assert.deepEqual(all.captions.get(101), ['A cat on a mat.', 'A cat.']);
  assert.deepEqual(readAnnotations(file, 'test').images.map((i) => i.id), [101, 103]);
  assert.deepEqual(readAnnotations(file, 'restval').images.map((i) => i.id), [2]);
  assert.throws(() => readAnnotations(file, 'testing'), /dataset_coco\.json: no images in split "testing"; the file has "train", "test", "restval"/);
});

test('result file errors name the file, the entry and the field', () => {
  const entries = Array.from({ length: 17 }, (_, i) => ({ image_id: i, caption: 'a dog' }));
  assert.throws(
    () => parseResults([...entries, { image_id: 17, caption: 42 }], 'results.json'),
    /^Error: results\.json: entry 17: "caption" must be a string, got 42$/,
  );
  // An empty caption is a valid (bad) result: the toolkit scores it 0.
  assert.deepEqual(parseResults([{ image_id: 1, caption: '  ' }], 'results.json').entries, [{ imageId: 1, caption: '  ' }]);
  assert.throws(() => parseResults([{ caption: 'a' }], 'results.json'), /results\.json: entry 0: "image_id" must be an integer or a non-empty string, got nothing/);
  assert.throws(() => parseResults({ image_id: 1 }, 'results.json'), /results\.json: expected a JSON array/);
});

test('files: unreadable, invalid JSON and unknown shapes are reported with the path', () => {
  assert.throws(() => readResults(path.join(dir, 'missing.json')), /missing\.json.*no such file/);
  const broken = write('broken.json', '[{"image_id": 1,');
  assert.throws(() => readResults(broken), /broken\.json: not valid JSON/);
  const odd = write('odd.json', { foo: 1 });
  assert.throws(() => readAnnotations(odd), /odd\.json.*neither a Karpathy split file/);
  assert.equal(readAnnotations(write('coco.json', COCO)).format, 'coco-captions');
  assert.equal(readAnnotations(write('karpathy.json', KARPATHY), 'test').images.length, 2);
});

test('scoreResultFile: results for unknown images are an error listing them', async () => {
  const annotations = write('ann.json', COCO);
  const results = write('res-unknown.json', [
    { image_id: 1, caption: 'a dog' },
    { image_id: 2, caption: 'a bus' },
    { image_id: 3, caption: 'cats' },
    { image_id: 77, caption: 'x' },
    { image_id: 78, caption: 'y' },
  ]);
  await assert.rejects(scoreResultFile({ annotations, results }), /res-unknown\.json: 2 entries are for images not in .*ann\.json: 77, 78/);
});

test('scoreResultFile: a Karpathy split restricts the known images', async () => {
  const annotations = write('k.json', KARPATHY);
  const results = write('res-k.json', [{ image_id: 101, caption: 'a cat' }, { image_id: 103, caption: 'a man' }, { image_id: 100, caption: 'a dog' }]);
  await assert.rejects(scoreResultFile({ annotations, results, split: 'test' }), /1 entries are for images not in .*k\.json \(split "test"\): 100/);
  const ok = write('res-k2.json', [{ image_id: 103, caption: 'A man rides a bike' }, { image_id: 101, caption: 'a cat' }]);
  const scores = await scoreResultFile({ annotations, results: ok, split: 'test', java: { env: {} } });
  assert.deepEqual(scores.perImage.map((p) => p.imageId), [101, 103]); // annotation order
  assert.ok(scores.metrics.every((m) => m.split === 'test'));
});

test('scoreResultFile: duplicated image ids are an error naming the entries', async () => {
  const results = write('res-dup.json', [
    { image_id: 1, caption: 'a dog' },
    { image_id: 2, caption: 'a bus' },
    { image_id: 3, caption: 'cats' },
    { image_id: 2, caption: 'a bus again' },
  ]);
  await assert.rejects(
    scoreResultFile({ annotations: write('ann2.json', COCO), results }),
    /res-dup\.json: 1 duplicated image ids, one caption per image is allowed: 2 \(entries 1 and 3\)/,
  );
});

test('scoreResultFile: missing images are an error unless allowSubset', async () => {
  const annotations = write('ann3.json', COCO);
  const results = write('res-part.json', [{ image_id: 2, caption: 'A red bus.' }, { image_id: 1, caption: 'A dog running.' }]);
  await assert.rejects(
    scoreResultFile({ annotations, results }),
    /res-part\.json: no caption for 1 of the 3 images of .*ann3\.json: 3; pass allowSubset/,
  );
  const scores = await scoreResultFile({ annotations, results, allowSubset: true, protocol: 'free-running', java: { env: {} } });
  assert.deepEqual(scores.subset, { evaluated: 2, of: 3 });
  for (const m of scores.metrics) {
    if (isMetricScore(m)) assert.deepEqual(m.subset, { evaluated: 2, of: 3 });
    assert.equal(m.protocol, 'free-running');
  }
  // the images present, in annotation order, scored exactly as scoreCaptions would
  const direct = computeCaptionMetrics(
    new Map<ImageId, string[]>([[1, COCO.annotations.filter((a) => a.image_id === 1).map((a) => a.caption)], [2, COCO.annotations.filter((a) => a.image_id === 2).map((a) => a.caption)]]),
    new Map<ImageId, string>([[1, 'A dog running.'], [2, 'A red bus.']]),
  );
  assert.deepEqual(scores.perImage.map((p) => p.imageId), [1, 2]);
  for (const m of direct.metrics) {
    const s = scores.metrics.find((e) => e.name === m.name);
    assert.ok(s && isMetricScore(s) && isMetricScore(m));
    assert.equal(s.value, m.value);
  }
});

test('scoreResultFile: a complete result file has no subset mark', async () => {
  const results = write('res-full.json', [
    { image_id: 3, caption: 'Two cats sleeping.' },
    { image_id: 1, caption: 'A dog runs.' },
    { image_id: 2, caption: 'A bus on the street.' },
  ]);
  const scores = await scoreResultFile({ annotations: write('ann4.json', COCO), results, java: { env: {} } });
  assert.equal(scores.subset, undefined);
  assert.deepEqual(scores.perImage.map((p) => p.imageId), [3, 1, 2]);
  assert.ok(scores.metrics.every((m) => !('subset' in m)));
});
