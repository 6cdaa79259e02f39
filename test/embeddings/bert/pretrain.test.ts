// Masked-LM pretraining of a tiny BERT on scene-like captions: the loss falls, the export
// agrees with tfjs, a stopped run resumes to the same weights, a finished one is a cache hit,
// and the run store trains it as a job.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../../src/compute/backend';
import { createRng } from '../../../src/common/random';
import { BertEmbedder } from '../../../src/embeddings/bert/embedder';
import { makeSequence, maskBatch } from '../../../src/embeddings/bert/masking';
import { bertModelDir, bertPretrainingJob } from '../../../src/embeddings/bert/pretrain-job';
import { exportPretrainedBert, initPretraining, learningRateAt, pretrainBert, PretrainAbortedError, resolvePretrainSettings, trainEpoch, type PretrainOptions } from '../../../src/embeddings/bert/pretrain';
import { buildWordPieceVocabulary, countBertWords } from '../../../src/embeddings/bert/wordpiece';
import { experiment } from '../../../src/tracking/experiment';
import { sceneCaptions } from './fixture';

const temps: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-pretrain-'));
  temps.push(dir);
  return dir;
}

const TINY: Omit<PretrainOptions, 'captions'> = {
  validation: sceneCaptions(48, 99),
  shape: { hiddenSize: 32, numLayers: 2, numHeads: 2, intermediateSize: 128, maxPositions: 40 },
  epochs: 3,
  batchSize: 32,
  learningRate: 3e-3,
  seed: 3,
};
const captions = sceneCaptions(192);

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
});
after(() => {
  for (const t of temps) fs.rmSync(t, { recursive: true, force: true });
});

describe('masked-LM data', () => {
  test('WordPiece vocabulary from the corpus: specials first, every corpus word whole', () => {
    const vocab = buildWordPieceVocabulary(countBertWords(captions));
    assert.deepEqual(vocab.pieces.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    for (const w of ['triangle', 'hexagon', 'purple', 'above']) assert.ok(vocab.idOf(w) !== undefined, w);
    const small = buildWordPieceVocabulary(countBertWords(captions), { maxSize: 60 });
    assert.equal(small.size, 60);
    assert.ok(small.pieces.some((p) => p.startsWith('##')));
  });

  test('masking: 15% of non-special pieces, at least one per sequence, 80/10/10, pairs typed 0/1', () => {
    const vocab = buildWordPieceVocabulary(countBertWords(captions));
    const rng = createRng(1);
    const a = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
    const seqs = Array.from({ length: 400 }, (_, i) => makeSequence(vocab, a, i % 2 ? [20, 21, 22] : null, 40));
    assert.deepEqual(Array.from(seqs[1].types), [0, ...a.map(() => 0), 0, 1, 1, 1, 1]);
    const batch = maskBatch(vocab, seqs, rng);
    assert.equal(batch.S, 16);
    const perSeq = new Map<number, number>();
    let masked = 0;
    let kept = 0;
    batch.positions.forEach((p, i) => {
      const b = Math.floor(p / batch.S);
      perSeq.set(b, (perSeq.get(b) ?? 0) + 1);
      if (batch.inputIds[p] === vocab.maskId) masked += 1;
      else if (batch.inputIds[p] === batch.labels[i]) kept += 1;
      assert.notEqual(batch.labels[i], vocab.clsId);
      assert.notEqual(batch.labels[i], vocab.sepId);
    });
    assert.equal(perSeq.size, 400);
    const total = batch.positions.length;
    assert.ok(Math.abs(masked / total - 0.8) < 0.05, `masked ${masked / total}`);
    assert.ok(kept / total > 0.05 && kept / total < 0.17, `kept ${kept / total}`);
  });

  test('settings: defaults, and errors naming the setting', () => {
    const s = resolvePretrainSettings({});
    assert.equal(s.shape.hiddenSize, 64);
    assert.equal(s.maskProbability, 0.15);
    assert.throws(() => resolvePretrainSettings({ epochs: 0 }), /epochs must be a whole number >= 1, got 0/);
    assert.throws(() => resolvePretrainSettings({ shape: { hiddenSize: 30, numHeads: 4 } }), /multiple of numHeads/);
    assert.throws(() => resolvePretrainSettings({ epoch: 3 } as never), /unknown setting "epoch"/);
    assert.ok(learningRateAt(s, 10, 1) < learningRateAt(s, 10, 8));
    assert.ok(learningRateAt(s, 10, 80) < learningRateAt(s, 10, 9));
  });
});

describe('pretraining', () => {
  test('the loss falls, and the exported ONNX agrees with the trained tfjs model', async () => {
    const state = initPretraining({ captions, ...TINY });
    try {
      const first = await trainEpoch(state, 0, 11);
      await trainEpoch(state, 1, 12);
      const third = await trainEpoch(state, 2, 13);
      assert.ok(third.loss < first.loss - 0.3, `loss ${first.loss} -> ${third.loss}`);
      assert.ok(third.val_loss! < state.history[0].val_loss!, 'validation loss falls too');
      assert.equal(tf.memory().numTensors, state.model.weights.size * 3, 'no tensors besides weights and Adam moments');

      const dir = path.join(tempDir(), 'model');
      await exportPretrainedBert(state, dir);
      const bert = await BertEmbedder.load(dir, { allowRemote: false, log: null });
      try {
        const sentences = TINY.validation!.slice(0, 9);
        const pieces = await bert.runPieces(sentences);
        const B = pieces.length;
        const S = Math.max(...pieces.map((p) => p.ids.length));
        const ids = new Int32Array(B * S);
        const mask = new Int32Array(B * S);
        pieces.forEach((p, b) => p.ids.forEach((id, s) => ((ids[b * S + s] = id), (mask[b * S + s] = 1))));
        const last = tf.tidy(() => {
          const states = state.model.forward({ inputIds: tf.tensor2d(ids, [B, S], 'int32'), attentionMask: tf.tensor2d(mask, [B, S], 'int32'), tokenTypeIds: tf.zeros([B, S], 'int32') as tf.Tensor2D });
          return states[states.length - 1];
        });
        const expected = last.dataSync();
        last.dispose();
        const H = bert.width;
        let worst = 0;
        pieces.forEach((p, b) => p.rows.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - expected[b * S * H + i])))));
        assert.ok(worst < 1e-4, `max |diff| ${worst}`);
        const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
        assert.equal(config.captioning_lab.pretraining.epochs, 3);
      } finally {
        await bert.dispose();
      }
    } finally {
      state.model.dispose();
      state.adam.dispose();
    }
  });

  test('stopped after an epoch, it resumes to the weights of an uninterrupted run; then it is a cache hit', async () => {
    const options = { captions, ...TINY, epochs: 2, log: null };
    const straight = await pretrainBert({ ...options, dir: tempDir() });
    assert.equal(straight.cached, false);

    const dir = tempDir();
    const controller = new AbortController();
    const epochs: number[] = [];
    await assert.rejects(pretrainBert({ ...options, dir }, { signal: controller.signal, onEpoch: (m) => (epochs.push(m.epoch), controller.abort()) }), PretrainAbortedError);
    assert.deepEqual(epochs, [0]);
    assert.ok(fs.existsSync(path.join(dir, 'state', 'epoch-0001', 'checkpoint.json')));
    const resumed = await pretrainBert({ ...options, dir });
    assert.equal(resumed.resumedEpochs, 1);
    assert.deepEqual(resumed.record.history.map((h) => h.loss), straight.record.history.map((h) => h.loss));
    const bytes = (r: typeof straight) => fs.readFileSync(path.join(r.modelDir, 'onnx', 'model.onnx'));
    assert.ok(bytes(resumed).equals(bytes(straight)), 'same weights');

    const again = await pretrainBert({ ...options, dir });
    assert.equal(again.cached, true);
    await assert.rejects(pretrainBert({ ...options, dir, learningRate: 1e-3 }), /holds another pretraining/);
  });

  test('the run store trains it as a TrainingJob and keeps the model in the run folder', async () => {
    const root = tempDir();
    const lines: string[] = [];
    const job = bertPretrainingJob({ captions: captions.slice(0, 64), ...TINY, epochs: 1 });
    const run = await experiment(job, { root, log: (l) => lines.push(l), progress: 'none', handleInterrupt: false });
    assert.equal(run.status.status, 'finished');
    assert.ok(fs.existsSync(path.join(bertModelDir(run.dir), 'onnx', 'model.onnx')));
    assert.ok(run.metrics.some((m) => m.name === 'mlm-accuracy' && m.split === 'val'));
    const again = await experiment(job, { root, log: (l) => lines.push(l), progress: 'none', handleInterrupt: false });
    assert.equal(again.origin, 'loaded');
  });
});
