// BERT vectors behind the decoder's WordInputs interface: teacher forcing reads prepared
// captions, decoding computes prefixes on demand, and the real captioner trains and decodes.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { DEFAULT_VOCABULARY_OPTIONS, SPECIAL_TOKENS, Vocabulary } from '../../../src/data/vocabulary';
import { BertWordInputs, CaptionsNotPreparedError, PrefixesNotPreparedError } from '../../../src/embeddings/bert/bert-word-inputs';
import { BertEmbedder } from '../../../src/embeddings/bert/embedder';
import { BertWordVectors } from '../../../src/embeddings/bert/word-vectors';
import { beamSearch } from '../../../src/model/beam-search';
import { captionLogProb } from '../../../src/model/caption-log-prob';
import { Captioner, teacherBatch } from '../../../src/model/captioner';
import { Decoder } from '../../../src/model/decoder';
import { greedyDecode } from '../../../src/model/greedy-decode';
import { loadTinyBert, type LoadedTinyBert, type TinyBert } from './fixture';

let tiny: TinyBert;
let bert: BertEmbedder;
const WORDS = ['a', 'red', 'blue', 'green', 'circle', 'square', 'star', 'triangles', 'left', 'of', 'above'];
const vocab = new Vocabulary({
  words: [...SPECIAL_TOKENS, ...WORDS],
  counts: [0, 0, 0, 0, ...WORDS.map(() => 5)],
  options: DEFAULT_VOCABULARY_OPTIONS,
  report: { captions: 0, overLength: 0, tokens: 0, distinctWords: WORDS.length, keptWords: WORDS.length, coverage: 1 },
});

let loaded: LoadedTinyBert | undefined;
before(async () => {
  loaded = await loadTinyBert();
  ({ tiny, bert } = loaded);
});
after(() => loaded?.dispose());

/** Captions as ids [B, L] with lengths, as the batches give them. */
function encode(captions: string[][]): { ids: Int32Array; lengths: Int32Array; L: number } {
  const rows = captions.map((c) => vocab.encode(c));
  const L = Math.max(...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * L);
  rows.forEach((r, b) => ids.set(r, b * L));
  return { ids, lengths: Int32Array.from(rows.map((r) => r.length)), L };
}

describe('BertWordInputs', () => {
  const captions = [['a', 'red', 'circle', 'left', 'of', 'a', 'star'], ['a', 'blue', 'triangles'], ['a', 'green', 'square', 'above', 'a', 'zebra']];

  test('teacher forcing: time-major [T, B, W] of the prepared step inputs, zeros past each caption', async () => {
    for (const mode of ['bidirectional', 'causal', 'static'] as const) {
      const words = await BertWordInputs.create(bert, vocab, { mode });
      assert.equal(words.dim, bert.width);
      assert.equal(words.causal, mode !== 'bidirectional');
      assert.equal(words.variables.size, 0);
      const { ids, lengths, L } = encode(captions);
      const batch = teacherBatch(ids, lengths, L);
      const inputs = tf.tensor2d(batch.inputs, [batch.T, batch.B], 'int32');
      if (mode !== 'static') assert.throws(() => words.embedPrefix(inputs), CaptionsNotPreparedError);
      await words.prepare(Array.from({ length: batch.B }, (_, b) => ids.subarray(b * L, (b + 1) * L)));
      const before = tf.memory().numTensors;
      const out = words.embedPrefix(inputs); // [T, B, W]
      assert.deepEqual(out.shape, [batch.T, batch.B, bert.width]);
      assert.equal(tf.memory().numTensors, before + 1);
      const values = out.dataSync();
      const vectors = await BertWordVectors.create(bert, { mode });
      const sorted = Array.from(batch.order, (b) => captions[b].map((w) => (vocab.has(w) ? w : '<unk>')));
      const expected = await vectors.teacherForcing(sorted, batch.T); // [B, T, W]
      const W = bert.width;
      for (let t = 0; t < batch.T; t++) {
        for (let b = 0; b < batch.B; b++) {
          for (let j = 0; j < W; j++) assert.equal(values[(t * batch.B + b) * W + j], expected.data[(b * batch.T + t) * W + j], `${mode} t ${t} b ${b}`);
        }
      }
      tf.dispose([out, inputs]);
    }
  });

  test('decoding: unprepared prefixes are named; prepareLast computes them; <unk> is BERT [UNK]', async () => {
    const words = await BertWordInputs.create(bert, vocab, { mode: 'causal' });
    const prefixes = tf.tensor2d([[1, 4, 5], [1, 4, 6], [1, 3, 7]], [3, 3], 'int32');
    assert.throws(() => words.embedLast(prefixes), (error: unknown) => {
      assert.ok(error instanceof PrefixesNotPreparedError);
      assert.deepEqual(error.prefixes, [['a', 'red'], ['a', 'blue'], ['<unk>', 'green']]);
      return true;
    });
    await words.prepareLast([[1, 4, 5], [1, 4, 6], [1, 3, 7]]);
    const v = words.embedLast(prefixes);
    const expected = await (await BertWordVectors.create(bert, { mode: 'causal' })).lastWordVectors([['a', 'red'], ['a', 'blue'], ['[UNK]', 'green']]);
    assert.deepEqual(Array.from(v.dataSync()), Array.from(expected));
    tf.dispose([v, prefixes]);
  });

  test('the captioner trains on BERT inputs and the searches run BERT on their live prefixes, leaking no tensors', async () => {
    const words = await BertWordInputs.create(bert, vocab, { mode: 'causal' });
    const decoder = new Decoder({ vocabularySize: vocab.size, featureDim: 6, embeddingDim: words.dim, hiddenSize: 8, attentionSize: 4, attentionActivation: 'tanh', context: 'soft-attention', gate: 'scalar', seed: 1 });
    const captioner = new Captioner({ encoder: null, words, decoder });
    const features = tf.randomUniform([2, 4, 6], -1, 1, 'float32', 5) as tf.Tensor3D;
    try {
      const { ids, lengths, L } = encode(captions.slice(0, 2));
      await words.prepare(captions.slice(0, 2));
      const batch = teacherBatch(ids, lengths, L);
      const logits = tf.tidy(() => {
        const encoded = captioner.encode(tf.gather(features, tf.tensor1d(batch.order, 'int32')));
        return captioner.teacherForce(encoded, batch, { dropout: 0 }).logits;
      });
      assert.deepEqual(logits.shape, [batch.realIndex.length, vocab.size]);
      logits.dispose();

      const before = tf.memory().numTensors;
      const fresh = await BertWordInputs.create(bert, vocab, { mode: 'causal' }); // no prefix prepared yet
      const decodeWith = new Captioner({ encoder: null, words: fresh, decoder });
      const beams = await beamSearch(decodeWith, features, { beam: 2, maxLength: 4 });
      const beamOne = await beamSearch(decodeWith, features, { beam: 1, maxLength: 4 });
      const greedy = await greedyDecode(decodeWith, features, { maxLength: 4 });
      assert.equal(tf.memory().numTensors, before, 'no tensor left behind by the searches');
      assert.equal(beams.length, 2);
      assert.ok(beams.every((c) => c.words.length >= 1), 'every image gets a caption');
      assert.deepEqual(beamOne.map((c) => c.words), greedy.map((c) => c.words), 'beam 1 is greedy with BERT inputs too');
      // The vectors the search used are BERT's over each prefix: the caption's log-probability
      // recomputed through the same inputs agrees with the search's.
      const check = await captionLogProb(decodeWith, features, beams.map((c) => c.words), beams.map((c) => c.ended));
      beams.forEach((c, i) => assert.ok(Math.abs(check[i] - c.logProb) < 1e-4, `${check[i]} vs ${c.logProb}`));
    } finally {
      features.dispose();
      captioner.dispose();
    }
  });
});
