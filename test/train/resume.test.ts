// Training: the captioner job through the run store (src/train/job.ts checkpoints, the path
// every real run takes) interrupted after epoch 2 and resumed ends with the weights of three
// uninterrupted epochs; an early stop ends the run where it stops; a train step leaks no
// tensors; the Trainer's schedule follows the validation metric.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';
import { resolveConfig, type CaptionerConfig } from '../../src/config';
import { experiment, RunInterruptedError, type Run } from '../../src/tracking';
import { captionerJob } from '../../src/train/job';
import { Trainer, type TrainerOptions } from '../../src/train/trainer';
import { tinyCaptioner, tinyDataset, tinyInputs, tinyTrainerOptions } from '../model/helpers';

let tmp: string;
before(async () => {
  await selectBackend({ force: 'wasm', log: null });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'captioning-resume-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const OPTIONS = tinyTrainerOptions();

/** A small real captioner config: 40 generated scenes, a small CNN, shared data folders. */
function tinyConfig(train: Record<string, unknown>): CaptionerConfig {
  return resolveConfig('quick', {
    data: { dir: path.join(tmp, 'scenes'), scenes: { images: 40, size: 64, seed: 3, occlusion: 0, captionsPerImage: 5 } },
    encoder: { kind: 'small-cnn', inputSize: 64, normalisation: 'imagenet', cache: { dir: path.join(tmp, 'features'), dtype: 'float16', batchSize: 16 } },
    decoder: { hidden: 32, attention: 16 },
    words: { dim: 16 },
    train: { batchSize: 16, ...train },
    decode: { beam: 2, maxLength: 12, lengthPenalty: 0 },
  });
}

const quiet = (root: string) => ({ root, log: () => {}, progress: 'none' as const });

async function lastWeights(run: Run): Promise<Map<string, Float32Array>> {
  const arrays = await run.checkpoint('last').loadArrays('trainer');
  return new Map([...arrays].map(([k, a]) => [k, a.data as Float32Array]));
}

function fresh(cnn: boolean, options: Partial<TrainerOptions> = {}) {
  const data = tinyDataset();
  const captioner = tinyCaptioner({ V: data.vocab.size, cnn, initRange: 0.5, seed: 7 });
  // The CNN variant trains on whole-image batches (each image encoded once per batch).
  const trainer = new Trainer(captioner, { captions: data.train, inputs: tinyInputs(cnn ? 'pixels' : 'features') }, { ...OPTIONS, ...(cnn ? { imagesPerBatch: 2 } : {}), ...options });
  return { captioner, trainer };
}

describe('training', () => {
  test('the captioner job interrupted after epoch 2 and resumed through the run store equals 3 uninterrupted epochs', async () => {
    const config = tinyConfig({ epochs: 3 });
    const straight = await experiment(await captionerJob(config, { log: null }), quiet(path.join(tmp, 'straight')));

    const root = path.join(tmp, 'interrupted');
    const job = await captionerJob(config, { log: null });
    const interrupting = { ...job, epoch: async (...args: Parameters<typeof job.epoch>) => {
      const metrics = await job.epoch(...args);
      if (args[1].epoch === 1) process.emit('SIGINT', 'SIGINT'); // the store stops after this epoch's checkpoint
      return metrics;
    } };
    await assert.rejects(experiment(interrupting, quiet(root)), RunInterruptedError);
    const resumed = await experiment(await captionerJob(config, { log: null }), quiet(root));
    assert.equal(resumed.origin, 'resumed');
    assert.equal(resumed.epochsTrainedNow, 1);
    assert.equal(resumed.id, straight.id);

    const a = await lastWeights(straight);
    const b = await lastWeights(resumed);
    assert.deepEqual([...b.keys()], [...a.keys()], 'the same checkpoint entries (weights, best weights, Adam moments)');
    let maxDiff = 0;
    for (const [name, w] of a) {
      const r = b.get(name)!;
      assert.equal(r.length, w.length, name);
      for (let i = 0; i < w.length; i++) maxDiff = Math.max(maxDiff, Math.abs(w[i] - r[i]));
    }
    assert.ok(maxDiff <= 1e-6, `weights differ by ${maxDiff}`);
    const metricsOf = (run: Run) => run.summary.metrics.map((m) => [m.name, m.split, m.protocol, m.beam, m.epoch, Number(m.value.toFixed(6))]);
    assert.deepEqual(metricsOf(resumed), metricsOf(straight), 'the same summary numbers');
    assert.deepEqual(resumed.status.stop, { reason: 'planned', epochs: 3 });
  });

  test('a quick run with 12 epochs and patience 1 stops early: one validated epoch record per trained epoch, nothing past the stop', async () => {
    // A learning rate of 1e-9 leaves val BLEU-4 where it is, so the second epoch is no improvement.
    const config = tinyConfig({ epochs: 12, learningRate: 1e-9, earlyStopping: { patience: 1 } });
    const run = await experiment(await captionerJob(config, { log: null }), quiet(path.join(tmp, 'early')));
    const epochs = run.history('epoch');
    assert.equal(epochs.length, 2, 'two epochs trained');
    for (const e of epochs) {
      assert.equal(typeof e.val_bleu4, 'number', `epoch ${e.epoch} has free-running validation BLEU-4`);
      assert.equal(typeof e.val_loss, 'number');
      assert.equal(typeof e.val_cross_entropy, 'number');
    }
    assert.deepEqual(run.checkpoints().map((c) => c.epoch), [1, 2], 'no checkpoint past the stop');
    assert.deepEqual(run.status.stop?.reason, 'early-stop');
    assert.equal(run.status.stop?.epochs, 2);
    assert.equal(run.summary.epochs.best, 0);
    const val = run.metric('BLEU-4', { split: 'val', protocol: 'free-running' });
    assert.equal(val?.epoch, 0);
    assert.equal(val?.value, epochs[0].val_bleu4, "the summary's validation BLEU-4 is the best epoch's");
    assert.ok(run.metric('cross-entropy', { split: 'val' }), 'the cross-entropy is logged besides the objective');
    // Asked for again: loaded as finished.
    const again = await experiment(await captionerJob(config, { log: null }), quiet(path.join(tmp, 'early')));
    assert.equal(again.origin, 'loaded');
  });

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

  test('early stopping and learning-rate decay follow the plateau of the validation metric', async () => {
    const { captioner, trainer } = fresh(false, { lrDecay: { factor: 0.8, patience: 2 }, earlyStopping: { patience: 3 } });
    trainer.progress.epoch = 1;
    assert.deepEqual(trainer.endEpoch({ improved: true }), { decayed: false, stopped: false });
    assert.deepEqual(trainer.endEpoch({ improved: false }), { decayed: false, stopped: false });
    assert.deepEqual(trainer.endEpoch({ improved: false }), { decayed: true, stopped: false });
    assert.ok(Math.abs(trainer.progress.learningRate - 0.008) < 1e-12);
    assert.equal(trainer.progress.epochsWithoutImprovement, 2);
    assert.deepEqual(trainer.endEpoch({ improved: true }), { decayed: false, stopped: false });
    assert.equal(trainer.progress.epochsWithoutImprovement, 0, 'an improvement resets the plateau');
    for (let i = 0; i < 2; i++) trainer.endEpoch({ improved: false });
    assert.deepEqual(trainer.endEpoch({ improved: false }), { decayed: false, stopped: true });
    await assert.rejects(() => trainer.trainEpoch(), /stopped/);
    trainer.dispose();
    captioner.dispose();
  });
});
