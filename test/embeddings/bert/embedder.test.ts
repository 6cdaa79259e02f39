// The embedder on the tiny exported BERT, loaded through transformers.js with remote loading
// off: word alignment of multi-piece words, layers, static vectors, and the offline rule.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ALIGNMENTS } from '../../../src/config';
import { BertEmbedder } from '../../../src/embeddings/bert/embedder';
import { REPORT_SEGMENT_ID } from '../../../src/embeddings/bert/embedder-settings';
import { contextDrift, nearestWords } from '../../../src/embeddings/bert/inspect';
import { RemoteModelsDisabledError, REMOTE_MODELS_ENV_VAR, remoteAllowedByEnv, resolveBertSource } from '../../../src/embeddings/bert/source';
import { loadTinyBert, type LoadedTinyBert, type TinyBert } from './fixture';

let tiny: TinyBert;
let bert: BertEmbedder;

let loaded: LoadedTinyBert | undefined;
before(async () => {
  loaded = await loadTinyBert();
  ({ tiny, bert } = loaded);
});
after(() => loaded?.dispose());

function row(m: Float32Array, r: number, W: number): Float32Array {
  return m.slice(r * W, (r + 1) * W);
}

function close(a: Float32Array, b: Float32Array, tol = 1e-5): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= tol);
}

describe('BertEmbedder', () => {
  test('loads a local folder offline and reports its shape', async () => {
    await assert.rejects(BertEmbedder.load(tiny.dir, { layers: 2, log: null } as never), /unknown option "layers"/);
    assert.equal(bert.width, 32);
    assert.equal(bert.numLayers, 2);
    assert.equal(bert.source.kind, 'local');
    assert.equal(bert.outputName, 'last_hidden_state');
    assert.match(bert.key, /last_hidden_state\|sum\|segment0$/);
  });

  test('words split into several pieces: sum, mean and first combine the piece vectors as named', async () => {
    const sentence = ['a', 'green', 'triangles', 'left', 'of', 'the', "man's", 'star'];
    assert.deepEqual(bert.wordPieces('triangles').length, 3); // tri ##angle ##s
    assert.deepEqual(bert.wordPieces("man's").length, 3); // man ' s (pre-tokenizer split)
    const [pieces] = await bert.runPieces([sentence]);
    const W = bert.width;
    assert.equal(pieces.ids.length, 2 + 1 + 1 + 3 + 1 + 1 + 1 + 3 + 1);
    assert.deepEqual(pieces.spans[2], [3, 6]);
    for (const alignment of ALIGNMENTS) {
      const [words] = await bert.withSettings({ alignment }).run([sentence]);
      assert.equal(words.length, (sentence.length + 1) * W);
      assert.ok(close(row(words, 0, W), row(pieces.rows, 0, W)), `${alignment}: row 0 is [CLS]`);
      sentence.forEach((_, i) => {
        const [s, e] = pieces.spans[i];
        const expected = new Float32Array(W);
        if (alignment === 'first') expected.set(row(pieces.rows, s, W));
        else {
          for (let k = s; k < e; k++) row(pieces.rows, k, W).forEach((v, j) => (expected[j] += v));
          if (alignment === 'mean') expected.forEach((v, j) => (expected[j] = v / (e - s)));
        }
        assert.ok(close(row(words, i + 1, W), expected), `${alignment}, word ${sentence[i]}`);
      });
    }
  });

  test('a single-piece word is the same under every alignment', async () => {
    const sentence = ['a', 'red', 'circle'];
    const results = await Promise.all(ALIGNMENTS.map((alignment) => bert.withSettings({ alignment }).run([sentence])));
    for (const r of results) assert.ok(close(r[0], results[0][0]));
  });

  test('layer k reads hidden_state_k; a layer the graph lacks is an error listing its outputs', async () => {
    const sentence = [['a', 'blue', 'square']];
    const [emb] = await bert.withSettings({ layer: 0 }).run(sentence);
    const [last] = await bert.run(sentence);
    const [two] = await bert.withSettings({ layer: 2 }).run(sentence);
    assert.ok(close(last, two));
    assert.ok(!close(emb, last, 1e-2));
    assert.throws(() => bert.withSettings({ layer: 5 }), /hidden_state_5.*last_hidden_state, hidden_state_0, hidden_state_1, hidden_state_2/);
    assert.throws(() => bert.withSettings({ alignment: 'max' as never }), /sum, mean, first/);
  });

  test("the report's segment id (1) changes the vectors; it is an option", async () => {
    assert.equal(REPORT_SEGMENT_ID, 1);
    const [zero] = await bert.run([['a', 'star']]);
    const [one] = await bert.withSettings({ segmentId: REPORT_SEGMENT_ID }).run([['a', 'star']]);
    assert.ok(!close(zero, one, 1e-3));
    assert.throws(() => bert.withSettings({ segmentId: 2 }), /outside its 2 token types/);
  });

  test('static vectors are rows of the piece table, combined per word', async () => {
    const table = tiny.model.weights.get('embeddings.word_embeddings.weight')!.dataSync() as Float32Array;
    const W = bert.width;
    const v = await bert.staticVectors(['red', 'triangles']);
    const id = (p: string) => tiny.vocabulary.idOf(p)!;
    assert.ok(close(row(v, 0, W), row(table, id('[CLS]'), W)));
    assert.ok(close(row(v, 1, W), row(table, id('red'), W)));
    const sum = new Float32Array(W);
    for (const p of ['tri', '##angle', '##s']) row(table, id(p), W).forEach((x, j) => (sum[j] += x));
    assert.ok(close(row(v, 2, W), sum, 1e-4));
  });

  test('a caption longer than the position table is an error naming it', async () => {
    const long = Array.from({ length: 40 }, () => 'red');
    await assert.rejects(bert.run([long]), /42 pieces with \[CLS\] and \[SEP\]; the model has 32 positions/);
  });

  test('nearestWords and contextDrift give ranked neighbours and per-context similarities', async () => {
    const near = await nearestWords(bert, 'red', 3, { candidates: ['blue', 'green', 'circle', 'red', 'star'] });
    assert.equal(near.length, 3);
    assert.ok(near.every((n) => n.word !== 'red' && n.similarity <= 1 && n.similarity >= -1));
    assert.ok(near[0].similarity >= near[1].similarity && near[1].similarity >= near[2].similarity);
    const drift = await contextDrift(bert, 'circle', ['a red circle', 'a circle left of a star', 'there is a big circle', 'a blue square']);
    assert.equal(drift.sentences.length, 3);
    assert.equal(drift.similarity.length, 3);
    assert.ok(Math.abs(drift.similarity[1][1] - 1) < 1e-5);
    assert.ok(drift.meanPairwise < 0.9999, `contexts should move the vector, mean cosine ${drift.meanPairwise}`);
    const causal = await contextDrift(bert, 'circle', ['a red circle above a star', 'a red circle below a square'], { mode: 'causal' });
    assert.ok(Math.abs(causal.similarity[0][1] - 1) < 1e-5, 'the causal vector ignores what follows the word');
  });
});

describe('offline rule', () => {
  test('a hub id with remote loading off fails with an error naming the id and the switch', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-cache-'));
    try {
      await assert.rejects(BertEmbedder.load('Xenova/bert-base-uncased', { allowRemote: false, hubCacheDir: cache, log: null }), (error: unknown) => {
        assert.ok(error instanceof RemoteModelsDisabledError);
        assert.equal(error.modelId, 'Xenova/bert-base-uncased');
        assert.match(error.message, /"Xenova\/bert-base-uncased"/);
        assert.match(error.message, new RegExp(`${REMOTE_MODELS_ENV_VAR}=1`));
        return true;
      });
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });

  test('remote loading is opt-in through the environment', () => {
    assert.equal(remoteAllowedByEnv({}), false);
    assert.equal(remoteAllowedByEnv({ [REMOTE_MODELS_ENV_VAR]: '1' }), true);
    assert.equal(remoteAllowedByEnv({ [REMOTE_MODELS_ENV_VAR]: '0' }), false);
    assert.throws(() => remoteAllowedByEnv({ [REMOTE_MODELS_ENV_VAR]: 'maybe' }), /use 1/);
    const hub = resolveBertSource('Xenova/bert-base-uncased', { allowRemote: true, hubCacheDir: os.tmpdir() });
    assert.equal(hub.kind, 'hub');
    assert.equal(hub.remote, true);
  });

  test('a hub model already in the cache loads without remote loading', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-cache-'));
    try {
      fs.cpSync(tiny.dir, path.join(cache, 'someone', 'tiny-bert'), { recursive: true });
      const cached = await BertEmbedder.load('someone/tiny-bert', { allowRemote: false, hubCacheDir: cache, log: null });
      assert.equal(cached.source.kind, 'hub');
      assert.equal(cached.source.remote, false);
      const [a] = await cached.run([['a', 'red', 'star']]);
      const [b] = await bert.run([['a', 'red', 'star']]);
      assert.ok(close(a, b));
      await cached.dispose();
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });

  test('a local folder lacking files is an error listing them', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-empty-'));
    try {
      assert.throws(() => resolveBertSource(empty), /lacks config\.json, tokenizer\.json, tokenizer_config\.json, onnx\/model\.onnx/);
      assert.throws(() => resolveBertSource('./no/such/folder'), /does not exist/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
