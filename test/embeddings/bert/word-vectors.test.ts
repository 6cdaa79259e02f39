// The three modes on the tiny exported BERT: what each step sees, decoding prefixes, the cache.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { BertEmbedder } from '../../../src/embeddings/bert/embedder';
import { decodeEntry, encodeEntry, VectorCache } from '../../../src/embeddings/bert/vector-cache';
import { BERT_MODES } from '../../../src/config';
import { bertVectorsFor, BertWordVectors } from '../../../src/embeddings/bert/word-vectors';
import { loadTinyBert, type LoadedTinyBert, type TinyBert } from './fixture';

let tiny: TinyBert;
let bert: BertEmbedder;
const temps: string[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-cache-'));
  temps.push(dir);
  return dir;
}

let loaded: LoadedTinyBert | undefined;
before(async () => {
  loaded = await loadTinyBert();
  ({ tiny, bert } = loaded);
});
after(async () => {
  await loaded?.dispose();
  for (const t of temps) fs.rmSync(t, { recursive: true, force: true });
});

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const caption = ['a', 'big', 'red', 'circle', 'left', 'of', 'a', 'blue', 'square'];

describe('BertWordVectors', () => {
  test('causal inputs never see future words; bidirectional ones do', async () => {
    const causal = await BertWordVectors.create(bert, { mode: 'causal' });
    const bidirectional = await BertWordVectors.create(bert, { mode: 'bidirectional' });
    const W = bert.width;
    for (const t of [1, 3, 6]) {
      // Change word t+1 (1-based; index t): steps 0..t read words 1..t only.
      const changed = [...caption];
      changed[t] = changed[t] === 'star' ? 'square' : 'star';
      const [c0, c1] = await causal.stepInputs([caption, changed]);
      const [b0, b1] = await bidirectional.stepInputs([caption, changed]);
      assert.equal(c0.length, (caption.length + 1) * W);
      const prefixRows = (t + 1) * W;
      assert.ok(maxDiff(c0.subarray(0, prefixRows), c1.subarray(0, prefixRows)) < 1e-5, `causal steps 0..${t} must not change`);
      assert.ok(maxDiff(c0.subarray(prefixRows), c1.subarray(prefixRows)) > 1e-3, `causal step ${t + 1} reads the changed word`);
      for (let s = 0; s <= t; s++) {
        const d = maxDiff(b0.subarray(s * W, (s + 1) * W), b1.subarray(s * W, (s + 1) * W));
        assert.ok(d > 1e-4, `bidirectional step ${s} should see word ${t + 1}; max |diff| ${d}`);
      }
    }
  });

  test('decoding reads BERT over the prefix alone: it equals the causal rows, and the start step is [CLS] of the empty prefix', async () => {
    for (const mode of ['causal', 'bidirectional'] as const) {
      const vectors = await BertWordVectors.create(bert, { mode });
      const W = bert.width;
      const prefixes = Array.from({ length: caption.length + 1 }, (_, k) => caption.slice(0, k));
      const last = await vectors.lastWordVectors(prefixes); // [n+1, W]
      const causal = await BertWordVectors.create(bert, { mode: 'causal' });
      const [rows] = await causal.stepInputs([caption]);
      assert.ok(maxDiff(last, rows) < 1e-5, mode);
      const [empty] = await bert.run([[]]);
      assert.ok(maxDiff(last.subarray(0, W), empty.subarray(0, W)) < 1e-5);
    }
  });

  test('bidirectional step inputs are the whole caption pass: row 0 its [CLS], row t word t', async () => {
    const vectors = await BertWordVectors.create(bert, { mode: 'bidirectional' });
    const [rows] = await vectors.stepInputs([caption]);
    const [direct] = await bert.run([caption]);
    assert.ok(maxDiff(rows, direct) === 0);
  });

  test('static inputs are the piece table, the same in any context, and causal', async () => {
    const vectors = await BertWordVectors.create(bert, { mode: 'static' });
    assert.equal(vectors.causal, true);
    const W = bert.width;
    const [a] = await vectors.stepInputs([['a', 'red', 'circle']]);
    const [b] = await vectors.stepInputs([['the', 'red', 'star']]);
    assert.ok(maxDiff(a.subarray(2 * W, 3 * W), b.subarray(2 * W, 3 * W)) === 0);
    assert.ok(maxDiff(a, await bert.staticVectors(['a', 'red', 'circle'])) === 0);
    const last = await vectors.lastWordVectors([[], ['a', 'red']]);
    assert.ok(maxDiff(last.subarray(0, W), a.subarray(0, W)) === 0);
    assert.ok(maxDiff(last.subarray(W), a.subarray(2 * W, 3 * W)) === 0);
  });

  test('teacher forcing gives [B, T, W] with zero rows after each caption', async () => {
    const vectors = await BertWordVectors.create(bert, { mode: 'causal' });
    const captions = [caption, ['a', 'star'], ['a', 'red', 'circle']];
    const { data, shape } = await vectors.teacherForcing(captions);
    const W = bert.width;
    assert.deepEqual(shape, [3, caption.length + 1, W]);
    const T = shape[1];
    const [short] = await vectors.stepInputs([['a', 'star']]);
    assert.ok(maxDiff(data.subarray(T * W, T * W + 3 * W), short) === 0);
    assert.ok(data.subarray(T * W + 3 * W, 2 * T * W).every((v) => v === 0));
    const wide = await vectors.teacherForcing(captions, T + 2);
    assert.deepEqual(wide.shape, [3, T + 2, W]);
    const words = await bertVectorsFor(bert, [caption], { mode: 'bidirectional' });
    assert.equal(words[0].length, caption.length * W);
  });

  test('the second call is served from the disk cache (BERT runs counted, not timed)', async () => {
    const cacheDir = tempDir();
    const captions = [caption, ['a', 'red', 'star'], ['there', 'is', 'a', 'green', 'triangles'], ['a', 'red', 'star']];
    for (const mode of ['bidirectional', 'causal'] as const) {
      const first = await BertWordVectors.create(bert, { mode, cacheDir });
      const runsBefore = bert.counters.sentences;
      const a = await first.stepInputs(captions);
      assert.ok(bert.counters.sentences > runsBefore);
      assert.equal(first.stats.writes, 3, `${mode}: one file per distinct caption`);
      // A fresh object (empty memory) on the same folder: no BERT run, every caption from disk.
      const second = await BertWordVectors.create(bert, { mode, cacheDir });
      const runsAfter = bert.counters.sentences;
      const b = await second.stepInputs(captions);
      assert.equal(bert.counters.sentences, runsAfter, `${mode}: BERT ran again`);
      assert.equal(second.stats.diskHits, 3);
      assert.equal(second.stats.memoryHits, 1);
      a.forEach((v, i) => assert.ok(maxDiff(v, b[i]) === 0));
      assert.ok(fs.existsSync(path.join(second.cache.dir!, 'namespace.json')));
    }
    // Another layer or alignment is another namespace: nothing is shared by mistake.
    const other = await BertWordVectors.create(bert.withSettings({ alignment: 'mean' }), { mode: 'bidirectional', cacheDir });
    const before = bert.counters.sentences;
    await other.stepInputs([caption]);
    assert.ok(bert.counters.sentences > before);
  });

  test('decoding prefixes are cached by text in memory', async () => {
    const vectors = await BertWordVectors.create(bert, { mode: 'causal' });
    await vectors.lastWordVectors([['a'], ['a', 'red'], ['a', 'red']]);
    const runs = bert.counters.sentences;
    await vectors.lastWordVectors([['a', 'red'], ['a']]);
    assert.equal(bert.counters.sentences, runs);
    assert.ok(vectors.peekLast(['a', 'red']));
    assert.equal(vectors.peekLast(['a', 'blue']), undefined);
  });

  test('mode names are checked', async () => {
    assert.deepEqual([...BERT_MODES], ['bidirectional', 'causal', 'static']);
    await assert.rejects(BertWordVectors.create(bert, { mode: 'leaky' as never }), /bidirectional, causal, static/);
  });
});

describe('VectorCache', () => {
  test('memory stays within its budget, evicting the least recently used', async () => {
    const cache = new VectorCache({ maxMemoryBytes: 3 * (400 + 64 + 20) });
    for (let i = 0; i < 10; i++) await cache.set(`key-${i}`, new Float32Array(100).fill(i), 1, 100);
    assert.ok(cache.stats.memoryBytes <= cache.maxMemoryBytes);
    assert.equal(cache.stats.memoryEntries, 3);
    assert.equal(cache.get('key-0'), undefined);
    assert.equal(cache.get('key-9')!.data[0], 9);
    assert.equal(cache.stats.evictions, 7);
  });

  test('files round-trip, carry their key, and are written atomically', async () => {
    const dir = tempDir();
    const cache = new VectorCache({ dir });
    const data = Float32Array.from({ length: 6 }, (_, i) => i / 3);
    await cache.set('bidirectional|a red circle', data, 2, 3);
    const file = cache.fileOf('bidirectional|a red circle')!;
    const bytes = fs.readFileSync(file);
    assert.deepEqual(decodeEntry('bidirectional|a red circle', bytes), { data, rows: 2, cols: 3 });
    assert.equal(decodeEntry('bidirectional|another', bytes), undefined);
    assert.equal(decodeEntry('x', encodeEntry('x', { data, rows: 2, cols: 3 }).subarray(0, 20)), undefined);
    assert.deepEqual(fs.readdirSync(path.dirname(file)).filter((f) => f.includes('.tmp')), []);
    const fresh = new VectorCache({ dir });
    assert.deepEqual(fresh.get('bidirectional|a red circle')!.data, data);
    assert.equal(fresh.stats.diskHits, 1);
  });
});

describe('BertWordVectors as a streaming source (preparation holds nothing, training reads per batch)', () => {
  const captions = [caption, ['a', 'red', 'circle'], ['two', 'blue', 'squares'], ['a', 'red', 'circle'], ['a', 'small', 'star']];

  test('ensureStepInputs computes only what the disk lacks, finds the rest without reading it, and keeps nothing beyond the LRU', async () => {
    const dir = tempDir();
    const first = await BertWordVectors.create(bert, { mode: 'bidirectional', cacheDir: dir, maxMemoryBytes: 0 });
    assert.deepEqual(await first.ensureStepInputs(captions.slice(0, 3)), { cached: 0, computed: 3 });
    assert.equal(first.stats.writes, 3);
    assert.equal(first.stats.memoryEntries, 0, 'a zero LRU keeps no vector after preparation');

    // A new process's view: three of the four distinct captions are on disk.
    const second = await BertWordVectors.create(bert, { mode: 'bidirectional', cacheDir: dir, maxMemoryBytes: 0 });
    assert.deepEqual(await second.ensureStepInputs(captions), { cached: 3, computed: 1 });
    assert.equal(second.stats.diskHits, 0, 'presence is checked without reading a file');
    assert.equal(second.stats.writes, 1);

    // What training then reads equals what stepInputs computes.
    const reference = await BertWordVectors.create(bert, { mode: 'bidirectional' });
    const expected = await reference.stepInputs(captions);
    captions.forEach((c, i) => assert.ok(maxDiff(second.peekStepInputs(c)!, expected[i]) === 0, `caption ${i} read back from disk`));
  });

  test('prefetchStepInputs reads a batch into memory ahead, so the synchronous read of the step hits memory', async () => {
    const dir = tempDir();
    const writer = await BertWordVectors.create(bert, { mode: 'causal', cacheDir: dir });
    await writer.ensureStepInputs(captions);
    const reader = await BertWordVectors.create(bert, { mode: 'causal', cacheDir: dir });
    await reader.prefetchStepInputs(captions.slice(0, 2));
    assert.equal(reader.stats.diskHits, 2);
    assert.equal(reader.stats.memoryEntries, 2);
    const before = reader.stats.memoryHits;
    assert.ok(reader.peekStepInputs(captions[0]));
    assert.ok(reader.peekStepInputs(captions[1]));
    assert.equal(reader.stats.memoryHits - before, 2, 'both served from memory');
    assert.equal(reader.stats.diskHits, 2, 'no second disk read');
    await reader.prefetchStepInputs([['never', 'prepared']]);
    assert.equal(reader.peekStepInputs(['never', 'prepared']), undefined, 'a caption never prepared stays a miss');
  });
});
