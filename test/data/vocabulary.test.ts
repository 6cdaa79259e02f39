// The vocabulary: counted on train only, minimum count, special ids, encode/decode, the
// length policy, save/load and the fingerprint.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import type { DatasetImage, Split } from '../../src/data/dataset';
import { buildVocabulary, vocabularyCoverage } from '../../src/data/build-vocabulary';
import { encodeCaptions } from '../../src/data/encoded-captions';
import { END_ID, PAD_ID, SPECIAL_TOKENS, START_ID, UNK_ID, Vocabulary } from '../../src/data/vocabulary';
import { tempDir } from './helpers';

/** A dataset from captions written as strings, one image per caption list. */
function dataset(spec: [Split, string[]][]): { images: DatasetImage[] } {
  let id = 0;
  return {
    images: spec.map(([split, captions], i) => ({
      id: i,
      file: `${i}.jpg`,
      split,
      sourceSplit: split,
      captions: captions.map((raw) => ({ id: id++, raw, tokens: raw.split(' ') })),
    })),
  };
}

const DATA = dataset([
  ['train', ['a dog on grass', 'a dog runs', 'A Dog']],
  ['train', ['a cat on a mat', 'the cat sleeps']],
  ['val', ['a giraffe giraffe giraffe', 'a dog']],
  ['test', ['a zebra zebra zebra']],
]);

test('special tokens take ids 0-3 and words follow by training count, ties alphabetical', () => {
  const vocab = buildVocabulary(DATA, { minCount: 1 });
  assert.deepEqual(vocab.words.slice(0, 4), ['<pad>', '<start>', '<end>', '<unk>']);
  assert.deepEqual([PAD_ID, START_ID, END_ID, UNK_ID].map((id) => vocab.wordOf(id)), [...SPECIAL_TOKENS]);
  // train counts: a 5, dog 3, cat 2, on 2, grass 1, mat 1, runs 1, sleeps 1, the 1
  assert.deepEqual(vocab.words.slice(4), ['a', 'dog', 'cat', 'on', 'grass', 'mat', 'runs', 'sleeps', 'the']);
  assert.deepEqual(vocab.counts.slice(4, 7), [5, 3, 2]);
  assert.equal(vocab.report.distinctWords, 9);
});

test('words are counted on the training split only: val and test words are unknown', () => {
  const vocab = buildVocabulary(DATA, { minCount: 1 });
  assert.ok(!vocab.has('giraffe'), 'giraffe is only in val');
  assert.ok(!vocab.has('zebra'), 'zebra is only in test');
  assert.equal(vocab.idOf('giraffe'), UNK_ID);
  const leaky = buildVocabulary(DATA, { minCount: 1, countSplits: ['train', 'val', 'test'] });
  assert.ok(leaky.has('giraffe') && leaky.has('zebra'));
});

test('the minimum count drops rare words; coverage says how much text is covered', () => {
  const vocab = buildVocabulary(DATA, { minCount: 2 });
  assert.deepEqual(vocab.words.slice(4), ['a', 'dog', 'cat', 'on']);
  assert.equal(vocab.report.keptWords, 4);
  assert.equal(vocab.report.tokens, 17);
  assert.equal(vocab.report.coverage, 12 / 17);
  const val = vocabularyCoverage(vocab, DATA.images, 'val');
  assert.deepEqual([val.tokens, val.known], [6, 3]);
  assert.deepEqual(val.missing, [['giraffe', 3]]);
});

test('encode adds <start>/<end>, maps unknown words to <unk>, lower-cases; decode inverts', () => {
  const vocab = buildVocabulary(DATA, { minCount: 1 });
  const ids = vocab.encode(['A', 'dog', 'flies']);
  assert.deepEqual(ids, [START_ID, vocab.idOf('a'), vocab.idOf('dog'), UNK_ID, END_ID]);
  assert.deepEqual(vocab.decode([...ids, PAD_ID, PAD_ID]), ['a', 'dog', '<unk>']);
  assert.deepEqual(vocab.decode([START_ID, vocab.idOf('cat'), END_ID, vocab.idOf('dog')]), ['cat'], 'stops at <end>');
  assert.throws(() => vocab.wordOf(999), /id 999 is outside 0\.\.12/);
});

test('captions over maxLength are skipped or truncated, as configured, and reported', () => {
  const long = dataset([['train', ['a b c d e f', 'a b', 'a b c']]]);
  const skip = buildVocabulary(long, { minCount: 1, maxLength: 3, overLength: 'skip' });
  assert.ok(!skip.has('d'), 'a skipped caption is not counted');
  assert.equal(skip.report.overLength, 1);
  const skipped = encodeCaptions(long, skip, 'train');
  assert.deepEqual([skipped.report.encoded, skipped.report.skipped, skipped.report.truncated], [2, 1, 0]);

  const truncate = buildVocabulary(long, { minCount: 1, maxLength: 3, overLength: 'truncate' });
  assert.ok(!truncate.has('d'), 'a truncated caption is counted up to maxLength');
  const truncated = encodeCaptions(long, truncate, 'train');
  assert.deepEqual([truncated.report.encoded, truncated.report.skipped, truncated.report.truncated], [3, 0, 1]);
  // Row 0: <start> a b c <end>, cut at 3 words.
  assert.deepEqual(Array.from(truncated.ids.subarray(truncated.offsets[0], truncated.offsets[1])), [START_ID, ...['a', 'b', 'c'].map((w) => truncate.idOf(w)), END_ID]);
  assert.deepEqual(Array.from(truncated.offsets), [0, 5, 9, 14]);
  assert.deepEqual(Array.from(truncated.image), [0, 0, 0]);
  assert.deepEqual(Array.from(truncated.caption), [0, 1, 2]);
});

test('save and load round-trip atomically; the fingerprint is stable and tracks the content', async () => {
  const dir = tempDir('vocab');
  const vocab = buildVocabulary(DATA, { minCount: 1 });
  const file = path.join(dir, 'nested', 'vocab.json');
  await vocab.save(file);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['vocab.json'], 'no temporary file is left');
  const loaded = Vocabulary.load(file);
  assert.deepEqual(loaded.words, vocab.words);
  assert.deepEqual(loaded.counts, vocab.counts);
  assert.equal(loaded.fingerprint, vocab.fingerprint);
  assert.match(vocab.fingerprint, /^[0-9a-f]{12}$/);
  assert.equal(buildVocabulary(DATA, { minCount: 1 }).fingerprint, vocab.fingerprint, 'same data, same fingerprint');
  assert.notEqual(buildVocabulary(DATA, { minCount: 2 }).fingerprint, vocab.fingerprint, 'other words, other fingerprint');
  assert.notEqual(buildVocabulary(DATA, { minCount: 1, maxLength: 20 }).fingerprint, vocab.fingerprint, 'other length policy, other fingerprint');

  // An edited file is caught.
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  json.words[5] = 'cow';
  fs.writeFileSync(file, JSON.stringify(json));
  assert.throws(() => Vocabulary.load(file), /fingerprint "[0-9a-f]{12}" does not match its content/);
  fs.writeFileSync(file, '{"format": "something else"}');
  assert.throws(() => Vocabulary.load(file), /not a version 1 captioning-lab vocabulary/);
});

test('options are validated with the offending value named', () => {
  assert.throws(() => buildVocabulary(DATA, { minCount: 0 }), /minCount must be a whole number >= 1, got 0/);
  assert.throws(() => buildVocabulary(DATA, { maxLength: 2.5 }), /maxLength must be a whole number >= 1, got 2\.5/);
  assert.throws(() => buildVocabulary(DATA, { overLength: 'cut' as 'skip' }), /overLength must be 'truncate' or 'skip', got "cut"/);
  assert.throws(() => buildVocabulary(dataset([['val', ['a b']]])), /no captions in the counted splits \(train\)/);
});
