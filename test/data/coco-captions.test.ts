// Raw COCO caption annotations: the valid fixture, split from the file name, lenient
// skipping, and one malformed fixture per kind of problem.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { before, test } from 'node:test';

import { loadCocoCaptions, splitFromFileName } from '../../src/data/coco-captions';
import { DatasetError } from '../../src/data/dataset';
import { loadDataset } from '../../src/data/load';
import { vocabularyTokens } from '../../src/data/tokenize';
import { FIXTURES, makeFixtureImages } from './helpers';

const fixture = (name: string) => path.join(FIXTURES, 'coco', name);
let root: string;
before(async () => {
  root = path.join(await makeFixtureImages(), 'train2014');
});

test('the valid fixture loads: images in file order, captions joined by image_id, tokenized', () => {
  const dataset = loadCocoCaptions(fixture('captions_train2014.json'), { imagesRoot: root });
  assert.equal(dataset.format, 'coco-captions');
  assert.equal(dataset.name, 'coco');
  assert.deepEqual(dataset.images.map((i) => [i.id, i.cocoId, i.file, i.split]), [
    [9, 9, 'a.jpg', 'train'],
    [25, 25, 'b.jpg', 'train'],
  ]);
  assert.deepEqual(dataset.images[0].captions.map((c) => c.id), [102, 103]);
  assert.deepEqual(dataset.images[0].captions[0].tokens, ['a', 'dog', 'runs', 'on', 'the', 'grass']);
  assert.deepEqual(dataset.images[1].captions[1].tokens, ['a', 'dog', 'and', 'a', "zebra's", 'shadow']);
  assert.equal(dataset.images[0].extra?.width, 37, 'extra image fields are kept');
  assert.equal(dataset.report.captionsKept, 4);
  assert.equal(loadDataset(fixture('captions_train2014.json'), { imagesRoot: root }).format, 'coco-captions');
});

test('the split comes from the file name or the options', () => {
  assert.equal(splitFromFileName('annotations/captions_val2014.json'), 'val');
  assert.equal(splitFromFileName('captions_train2017.json'), 'train');
  assert.equal(splitFromFileName('my.json'), undefined);
  assert.throws(() => loadCocoCaptions(fixture('bad-empty-caption.json'), { imagesRoot: root }), /cannot tell the split from the file name; pass split/);
  const asVal = loadCocoCaptions(fixture('captions_train2014.json'), { imagesRoot: root, split: 'val' });
  assert.ok(asVal.images.every((i) => i.split === 'val'));
});

test('vocabularyTokens lower-cases, drops punctuation and keeps inner apostrophes', () => {
  assert.deepEqual(vocabularyTokens("A man's hat, on a TABLE... 'really'"), ['a', "man's", 'hat', 'on', 'a', 'table', 'really']);
  assert.deepEqual(vocabularyTokens('  --  '), []);
});

const MALFORMED: [string, RegExp][] = [
  ['bad-duplicate-annotation.json', /annotations\[2\] \(id 101, image_id 9\): field "id": duplicate annotation id 101 \(first used by annotations\[0\]\)/],
  ['bad-unknown-image.json', /annotations\[3\] \(id 104, image_id 77\): field "image_id": no image with id 77 in "images"/],
  ['bad-empty-caption.json', /annotations\[1\] \(id 102, image_id 9\): field "caption": empty caption " \.\.\. "/],
  ['bad-caption-type.json', /annotations\[0\] \(id 101, image_id 25\): field "caption": must be a string, found number 42/],
  ['bad-no-captions.json', /images\[1\] \(id 25, "b\.jpg"\): the image has no captions in "annotations"/],
  ['bad-duplicate-image.json', /images\[1\] \(id 9, "b\.jpg"\): field "id": duplicate image id 9 \(first used by images\[0\]\)/],
  ['bad-no-annotations.json', /bad-no-annotations\.json: field "annotations" must be a list, found undefined/],
  ['bad-missing-image.json', /images\[0\] \(id 9, "nope\.jpg"\): field "file_name": image file not found: .*train2014[\\/]nope\.jpg/],
];

for (const [name, pattern] of MALFORMED) {
  test(`malformed COCO fixture ${name} fails with its own message`, () => {
    assert.throws(
      () => loadCocoCaptions(fixture(name), { imagesRoot: root, split: 'train' }),
      (error: unknown) => {
        assert.ok(error instanceof DatasetError);
        assert.match(error.message, pattern);
        assert.ok(error.message.includes(name), 'the message names the file');
        return true;
      },
    );
  });
}

test('lenient mode: an image without captions is skipped and reported, a bad annotation too', () => {
  const noCaptions = loadCocoCaptions(fixture('bad-no-captions.json'), { imagesRoot: root, split: 'train', mode: 'lenient' });
  assert.deepEqual(noCaptions.images.map((i) => i.id), [9]);
  assert.equal(noCaptions.report.imagesRead, 2);
  assert.equal(noCaptions.report.imagesKept, 1);
  assert.deepEqual(noCaptions.report.skipped.map((p) => [p.action, p.message]), [['skipped image', 'the image has no captions in "annotations"']]);

  const unknown = loadCocoCaptions(fixture('bad-unknown-image.json'), { imagesRoot: root, split: 'train', mode: 'lenient' });
  assert.equal(unknown.report.captionsKept, 3);
  assert.equal(unknown.report.skipped[0].action, 'skipped annotation');
  // The annotations of an image rejected for a missing file are not reported a second time.
  const missing = loadCocoCaptions(fixture('bad-missing-image.json'), { imagesRoot: root, split: 'train', mode: 'lenient' });
  assert.equal(missing.report.skipped.length, 1);
  assert.deepEqual(missing.images.map((i) => i.id), [25]);
});

test('linear time at scale: 20,000 images and 100,000 captions load in well under a few seconds', async () => {
  const images = Array.from({ length: 20000 }, (_, i) => ({ id: i, file_name: `img_${i}.jpg` }));
  const annotations = Array.from({ length: 100000 }, (_, k) => ({ id: k, image_id: (k * 7919) % 20000, caption: `a caption number ${k} of an image` }));
  const file = path.join(root, '..', 'captions_train_big.json');
  require('node:fs').writeFileSync(file, JSON.stringify({ images, annotations }));
  const started = Date.now();
  const dataset = loadCocoCaptions(file, { imagesRoot: root, checkFiles: false });
  const seconds = (Date.now() - started) / 1000;
  assert.equal(dataset.images.length, 20000);
  assert.equal(dataset.report.captionsKept, 100000);
  assert.ok(seconds < 5, `took ${seconds} s`);
});
