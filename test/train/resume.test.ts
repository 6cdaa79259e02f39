// Training: a run interrupted after epoch 2, saved, restored into a fresh model and trained
// one more epoch equals three uninterrupted epochs; a train step leaks no tensors.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint';
import { readWeights, Trainer, type TrainerOptions } from '../../src/train/trainer';
import { tinyCaptioner, tinyDataset, tinyInputs, tinyTrainerOptions } from '../model/helpers';

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
});

const OPTIONS = tinyTrainerOptions();

function fresh(cnn: boolean, options: Partial<TrainerOptions> = {}) {
  const data = tinyDataset();
  const captioner = tinyCaptioner({ V: data.vocab.size, cnn, initRange: 0.5, seed: 7 });
  // The CNN variant trains on whole-image batches (each image encoded once per batch).
  const trainer = new Trainer(captioner, { captions: data.train, inputs: tinyInputs(cnn ? 'pixels' : 'features') }, { ...OPTIONS, ...(cnn ? { imagesPerBatch: 2 } : {}), ...options });
  return { captioner, trainer };
}

/** Trains `epochs` epochs, closing each with a made-up validation metric (so lr decay and best weights are exercised). */
async function train(trainer: Trainer, epochs: number): Promise<void> {
  const metrics = [0.3, 0.2, 0.4, 0.1];
  for (let e = 0; e < epochs; e++) {
    const epoch = trainer.progress.epoch;
    await trainer.trainEpoch();
    trainer.endEpoch({ metric: metrics[epoch] });
  }
}

describe('training', () => {
  for (const cnn of [false, true]) {
    test(`resume after 2 epochs + 1 equals 3 uninterrupted epochs (${cnn ? 'small CNN on pixels, whole-image batches' : 'cached features'})`, async () => {
      const a = fresh(cnn);
      await train(a.trainer, 3);
      const straight = readWeights(a.captioner.variables());

      const b = fresh(cnn);
      await train(b.trainer, 2);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'captioning-resume-'));
      await saveCheckpoint(dir, b.trainer.snapshot(), { config: { test: true } });
      b.trainer.dispose();
      b.captioner.dispose();

      const c = fresh(cnn);
      const { snapshot, meta } = await loadCheckpoint(dir);
      assert.deepEqual(meta.config, { test: true });
      c.trainer.restore(snapshot);
      assert.equal(c.trainer.progress.epoch, 2);
      assert.equal(c.trainer.progress.learningRate, 0.005); // decayed once, after epoch 2 (no improvement)
      await train(c.trainer, 1);
      const resumed = readWeights(c.captioner.variables());

      assert.deepEqual([...resumed.keys()], [...straight.keys()]);
      let maxDiff = 0;
      for (const [name, w] of straight) {
        const r = resumed.get(name)!;
        for (let i = 0; i < w.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(w.data[i] - r.data[i]));
      }
      assert.ok(maxDiff <= 1e-6, `weights differ by ${maxDiff}`);
      const withoutTimes = (p: typeof a.trainer.progress) => ({ ...p, history: p.history.map((h) => ({ ...h, seconds: 0 })) });
      assert.deepEqual(withoutTimes(c.trainer.progress), withoutTimes(a.trainer.progress));
      // The best weights (epoch 3) came through the checkpoint too.
      c.trainer.restoreBest();
      a.trainer.restoreBest();
      for (const [name, w] of readWeights(a.captioner.variables())) assert.deepEqual(readWeights(c.captioner.variables()).get(name)!.data, w.data);
      fs.rmSync(dir, { recursive: true, force: true });
      for (const x of [a, c]) {
        x.trainer.dispose();
        x.captioner.dispose();
      }
    });
  }

  test('a training step leaks no tensors; the loss falls', async () => {
    for (const clip of ['value', 'norm', 'none'] as const) {
      const { captioner, trainer } = fresh(true, { clip: { mode: clip, value: 1 } });
      const plan = trainer.plan(0);
      const counts: number[] = [];
      const losses: number[] = [];
      for (let s = 0; s < 12; s++) {
        losses.push((await trainer.trainStep(plan[s % plan.length], 0, s)).loss);
        counts.push(tf.memory().numTensors);
      }
      assert.deepEqual(counts, counts.map(() => counts[0]), `${clip}: tensor counts ${counts}`);
      assert.ok(losses.every(Number.isFinite));
      // The same batches again (the plan cycles): the loss on them fell.
      const n = plan.length;
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      assert.ok(sum(losses.slice(-n)) < sum(losses.slice(0, n)), `${clip}: loss should fall: ${losses.map((l) => l.toFixed(2))}`);
      trainer.dispose();
      captioner.dispose();
    }
  });

  test('early stopping and learning-rate decay follow the validation metric', async () => {
    const { captioner, trainer } = fresh(false, { lrDecay: { factor: 0.8, patience: 2 }, earlyStopping: { patience: 3 } });
    trainer.progress.epoch = 1;
    trainer.progress.history.push({ epoch: 0, steps: 0, seconds: 0, loss: 0, crossEntropy: 0, attention: 0, learningRate: 0.01 });
    assert.deepEqual(trainer.endEpoch({ metric: 0.5 }), { improved: true, decayed: false, stopped: false });
    assert.deepEqual(trainer.endEpoch({ metric: 0.4 }), { improved: false, decayed: false, stopped: false });
    assert.deepEqual(trainer.endEpoch({ metric: 0.5 }), { improved: false, decayed: true, stopped: false });
    assert.ok(Math.abs(trainer.progress.learningRate - 0.008) < 1e-12);
    assert.deepEqual(trainer.endEpoch({ metric: 0.45 }), { improved: false, decayed: false, stopped: true });
    await assert.rejects(() => trainer.trainEpoch(), /stopped/);
    trainer.dispose();
    captioner.dispose();
  });
});
