// Karpathy split files: the valid fixture, restval policies, lenient skipping with a report,
// and one malformed fixture per kind of problem, each with its own message.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { before, test } from 'node:test';

import { countSplits, DatasetError, datasetFingerprint, formatLoadReport, imagePath } from '../../src/data/dataset';
import { loadKarpathy } from '../../src/data/karpathy';
import { detectFormat, loadDataset } from '../../src/data/load';
import { readJsonFile } from '../../src/data/dataset';
import { FIXTURES, makeFixtureImages } from './helpers';

const fixture = (name: string) => path.join(FIXTURES, 'karpathy', name);
let root: string;
before(async () => {
  root = await makeFixtureImages();
});

test('the valid fixture loads with restval in train, lower-cased tokens and COCO ids', () => {
  const dataset = loadKarpathy(fixture('dataset_tiny.json'), { imagesRoot: root });
  assert.equal(dataset.name, 'tiny');
  assert.equal(dataset.format, 'karpathy');
  assert.deepEqual(countSplits(dataset.images), {
    train: { images: 3, captions: 5 },
    val: { images: 1, captions: 2 },
    test: { images: 1, captions: 1 },
  });
  const restval = dataset.images.find((i) => i.id === 2)!;
  assert.equal(restval.split, 'train');
  assert.equal(restval.sourceSplit, 'restval');
  assert.equal(restval.file, 'val2014/c.jpg');
  assert.equal(restval.cocoId, 30);
  assert.equal(imagePath(dataset, restval), path.join(root, 'val2014', 'c.jpg'));
  // "A brown dog on grass" is tokenized with a capital A in the file.
  assert.deepEqual(dataset.images[0].captions[1].tokens, ['a', 'brown', 'dog', 'on', 'grass']);
  assert.equal(dataset.images[0].captions[1].raw, 'A brown dog on grass');
  assert.deepEqual(dataset.report.sourceSplits, { train: 2, restval: 1, val: 1, test: 1 });
  assert.equal(dataset.report.skipped.length, 0);
  assert.match(dataset.fingerprint, /^[0-9a-f]{12}$/);
});

test('restval can go to val or be dropped (reported), and the fingerprint follows the splits', () => {
  const train = loadKarpathy(fixture('dataset_tiny.json'), { imagesRoot: root });
  const val = loadKarpathy(fixture('dataset_tiny.json'), { imagesRoot: root, restval: 'val' });
  const drop = loadKarpathy(fixture('dataset_tiny.json'), { imagesRoot: root, restval: 'drop' });
  assert.equal(countSplits(val.images).val.images, 2);
  assert.equal(countSplits(drop.images).train.images, 2);
  assert.equal(drop.images.length, 4);
  assert.equal(drop.report.skipped.length, 1);
  assert.equal(drop.report.skipped[0].action, 'dropped');
  assert.notEqual(train.fingerprint, val.fingerprint);
  assert.equal(train.fingerprint, loadKarpathy(fixture('dataset_tiny.json'), { imagesRoot: root }).fingerprint);
  assert.equal(train.fingerprint, datasetFingerprint(train.images));
});

test('format detection sends Karpathy files to the Karpathy loader', () => {
  assert.equal(detectFormat(fixture('dataset_tiny.json'), readJsonFile(fixture('dataset_tiny.json'))), 'karpathy');
  assert.equal(loadDataset(fixture('dataset_tiny.json'), { imagesRoot: root }).images.length, 5);
});

// Each malformed fixture: the pattern its error must match (file, record and field named).
const MALFORMED: [string, RegExp][] = [
  ['bad-not-json.json', /bad-not-json\.json: not valid JSON/],
  ['bad-no-images.json', /bad-no-images\.json: field "images" must be a list of image records, found undefined/],
  ['bad-split.json', /images\[1\] \(imgid 1, "b\.jpg"\): field "split": must be one of train, restval, val, test, found "dev"/],
  ['bad-tokens-type.json', /images\[0\] \(imgid 0, "a\.jpg"\): field "sentences\[1\]\.tokens": must be a list of strings, found string "a brown dog"/],
  ['bad-empty-caption.json', /images\[3\] \(imgid 3, "d\.png"\): field "sentences\[0\]\.tokens": empty caption/],
  ['bad-duplicate-imgid.json', /images\[2\] \(imgid 1, "c\.jpg"\): field "imgid": duplicate imgid 1 \(first used by images\[1\]\)/],
  ['bad-duplicate-sentid.json', /images\[4\] \(imgid 4, "e\.png"\): field "sentences\[0\]\.sentid": duplicate sentid 2 \(first used in images\[1\]\)/],
  ['bad-missing-image.json', /images\[4\] \(imgid 4, "missing\.png"\): field "filepath\/filename": image file not found: .*val2014[\\/]missing\.png/],
  ['bad-path-escape.json', /images\[4\] \(imgid 4, "e\.png"\): field "filepath\/filename": image path "\.\.\/outside\/e\.png" leaves the images root/],
  ['bad-no-captions.json', /images\[2\] \(imgid 2, "c\.jpg"\): field "sentences": the image has no captions/],
  ['bad-imgid-type.json', /images\[0\] \(imgid "0", "a\.jpg"\): field "imgid": must be a whole number >= 0, found string "0"/],
  ['bad-duplicate-cocoid.json', /images\[1\] \(imgid 1, "b\.jpg"\): field "cocoid": duplicate cocoid 9 \(first used by images\[0\]\)/],
];

for (const [name, pattern] of MALFORMED) {
  test(`malformed Karpathy fixture ${name} fails with its own message`, () => {
    assert.throws(
      () => loadKarpathy(fixture(name), { imagesRoot: root }),
      (error: unknown) => {
        assert.ok(error instanceof DatasetError, `expected a DatasetError, got ${String(error)}`);
        assert.match(error.message, pattern);
        assert.ok(error.message.includes(name), 'the message names the file');
        return true;
      },
    );
  });
}

test('the malformed messages are all different', () => {
  const messages = MALFORMED.map(([name]) => {
    try {
      loadKarpathy(fixture(name), { imagesRoot: root });
      return 'loaded';
    } catch (error) {
      return (error as Error).message.replace(/^[^:]*: /, '').replace(/images\[\d+\]/g, '');
    }
  });
  assert.equal(new Set(messages).size, MALFORMED.length);
});

test('lenient mode skips the bad records and reports each with its reason', () => {
  const skipped = loadKarpathy(fixture('bad-no-captions.json'), { imagesRoot: root, mode: 'lenient' });
  assert.equal(skipped.images.length, 4);
  assert.ok(!skipped.images.some((i) => i.id === 2));
  assert.equal(skipped.report.skipped.length, 1);
  assert.equal(skipped.report.skipped[0].action, 'skipped image');
  assert.equal(skipped.report.skipped[0].field, 'sentences');
  assert.match(formatLoadReport(skipped.report), /4\/5 images.*\n.*\n.*1 x skipped image\n.*the image has no captions/);

  const caption = loadKarpathy(fixture('bad-tokens-type.json'), { imagesRoot: root, mode: 'lenient' });
  assert.equal(caption.images.length, 5, 'one bad caption skips the caption, not the image');
  assert.equal(caption.images[0].captions.length, 1);
  assert.equal(caption.report.captionsKept, caption.report.captionsRead - 1);
  assert.equal(caption.report.skipped[0].action, 'skipped caption');

  const missing = loadKarpathy(fixture('bad-missing-image.json'), { imagesRoot: root, mode: 'lenient' });
  assert.deepEqual(missing.images.map((i) => i.id), [0, 1, 2, 3]);
});

test('a missing images root and checkFiles: false', () => {
  assert.throws(() => loadKarpathy(fixture('dataset_tiny.json'), { imagesRoot: path.join(root, 'nope') }), /images root ".*nope" does not exist/);
  const unchecked = loadKarpathy(fixture('bad-missing-image.json'), { imagesRoot: path.join(root, 'nope'), checkFiles: false });
  assert.equal(unchecked.images.length, 5);
});

test('strict mode lists every problem, not only the first', () => {
  const all = { images: [] as unknown[] };
  for (let i = 0; i < 25; i++) all.images.push({ imgid: i, filename: `x${i}.jpg`, split: 'nope', sentences: [] });
  const file = path.join(root, 'many-bad.json');
  require('node:fs').writeFileSync(file, JSON.stringify(all));
  assert.throws(() => loadKarpathy(file, { imagesRoot: root, checkFiles: false }), (error: unknown) => {
    assert.ok(error instanceof DatasetError);
    assert.equal(error.problems.length, 25);
    assert.match(error.message, /25 problems/);
    assert.match(error.message, /\.\.\. and 5 more/);
    return true;
  });
});
