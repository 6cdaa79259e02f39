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
  parseCocoAnnotations,
  parseKarpathy,
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
    { image_id: 1, caption: 'A dog runs on the grass.' },
    { image_id: 3, caption: 'Two cats sleep on a bed.' },
    { image_id: 1, caption: 'A brown dog running.' },
    { image_id: 2, caption: 'A red bus on a street.' },
    { image_id: 3, caption: 'Cats sleeping.' },
    { image_id: 2, caption: 'A bus parked by the road.' },
  ],
};

const KARPATHY = {
  images: [
    { imgid: 0, cocoid: 100, filename: 'x.jpg', split: 'train', sentences: [{ raw: 'A dog.', tokens: ['a', 'dog'] }] },
    { imgid: 1, cocoid: 101, filename: 'y.jpg', split: 'test', sentences: [{ raw: 'A cat on a mat.', tokens: [] }, { raw: 'A cat.', tokens: [] }] },
    { imgid: 2, filename: 'z.jpg', split: 'restval', sentences: [{ raw: 'A bird flies.', tokens: [] }] },
    { imgid: 3, cocoid: 103, filename: 'w.jpg', split: 'test', sentences: [{ raw: 'A man rides a bike.', tokens: [] }] },
  ],
};

test('COCO annotations: images in file order, captions grouped per image', () => {
  const a = parseCocoAnnotations(COCO, 'captions.json');
  assert.equal(a.format, 'coco');
  assert.deepEqual(a.images.map((i) => i.id), [3, 1, 2]);
  assert.deepEqual(a.captions.get(1), ['A dog runs on the grass.', 'A brown dog running.']);
  assert.equal(a.images[0].fileName, 'c.jpg');
});

test('COCO annotation errors name the file, the entry and the field', () => {
  assert.throws(() => parseCocoAnnotations({ images: [] }, 'ann.json'), /^Error: ann\.json: "annotations" must be an array, got nothing$/);
  assert.throws(
    () => parseCocoAnnotations({ images: [{ id: 1 }, { id: 'x', file_name: 7 }], annotations: [] }, 'ann.json'),
    /ann\.json: images entry 1: "file_name" must be a string, got 7/,
  );
  assert.throws(
    () => parseCocoAnnotations({ images: [{ id: 1.5 }], annotations: [] }, 'ann.json'),
    /ann\.json: images entry 0: "id" must be an integer or a non-empty string, got 1\.5/,
  );
  assert.throws(
    () => parseCocoAnnotations({ images: [{ id: 1 }], annotations: [{ image_id: 1, caption: 'ok' }, { image_id: 1, caption: null }] }, 'ann.json'),
    /ann\.json: annotations entry 1: "caption" must be a string, got null/,
  );
  assert.throws(
    () => parseCocoAnnotations({ images: [{ id: 1 }], annotations: [{ image_id: 9, caption: 'x' }] }, 'ann.json'),
    /ann\.json: annotations entry 0: "image_id" 9 is not in "images"/,
  );
  assert.throws(
    () => parseCocoAnnotations({ images: [{ id: 1 }, { id: 1 }], annotations: [] }, 'ann.json'),
    /ann\.json: images entry 1: image id 1 appears twice/,
  );
});

test('Karpathy files: id is cocoid else imgid, raw sentences, split filter, restval its own split', () => {
  const all = parseKarpathy(KARPATHY, 'dataset_coco.json');
  assert.deepEqual(all.images.map((i) => i.id), [100, 101, 2, 103]);
  assert.deepEqual(all.captions.get(101), ['A cat on a mat.', 'A cat.']);
  const test_ = parseKarpathy(KARPATHY, 'dataset_coco.json', 'test');
  assert.deepEqual(test_.images.map((i) => i.id), [101, 103]);
  assert.deepEqual(parseKarpathy(KARPATHY, 'd.json', 'restval').images.map((i) => i.id), [2]);
  assert.throws(() => parseKarpathy(KARPATHY, 'd.json', 'testing'), /d\.json: no images in split "testing"; the file has "train", "test", "restval"/);
});

test('Karpathy errors name the file, the entry and the field', () => {
  const bad = (img: Record<string, unknown>) => ({ images: [KARPATHY.images[0], img] });
  assert.throws(() => parseKarpathy(bad({ imgid: 5, split: 'val', sentences: [] }), 'k.json'), /k\.json: images entry 1: "sentences" must be a non-empty array, got \[\]/);
  assert.throws(() => parseKarpathy(bad({ imgid: 5, sentences: [{ raw: 'a' }] }), 'k.json'), /k\.json: images entry 1: "split" must be a non-empty string, got nothing/);
  assert.throws(
    () => parseKarpathy(bad({ imgid: 5, split: 'val', sentences: [{ raw: 'a' }, { tokens: [] }] }), 'k.json'),
    /k\.json: images entry 1: sentences entry 1: "raw" must be a string, got nothing/,
  );
  assert.throws(() => parseKarpathy(bad({ split: 'val', sentences: [{ raw: 'a' }] }), 'k.json'), /images entry 1: "imgid" must be an integer or a non-empty string \(or give "cocoid"\)/);
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
  assert.throws(() => readResults(path.join(dir, 'missing.json')), /missing\.json: cannot read/);
  const broken = write('broken.json', '[{"image_id": 1,');
  assert.throws(() => readResults(broken), /broken\.json: not valid JSON/);
  const odd = write('odd.json', { foo: 1 });
  assert.throws(() => readAnnotations(odd), /odd\.json: neither COCO caption annotations/);
  assert.equal(readAnnotations(write('coco.json', COCO)).format, 'coco');
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
