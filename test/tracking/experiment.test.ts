// The run store with a small real tfjs training job (an MLP on synthetic data, cpu backend):
// cache hits, resume after a failure or an interrupt, force, and the run folder's records.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import {
  DamagedRunError,
  experiment,
  jobRunId,
  loadRun,
  RunFailedError,
  RunInterruptedError,
} from '../../src/tracking';
import { checkpointWeights, mlpJob, newCounters } from './fixtures/mlp-job';
import { storeFixture } from './fixtures/store';

const { lines, quiet, rootOf } = storeFixture('tracking-exp-');

test('the same config twice trains once; force trains again', async () => {
  const root = rootOf('cache');
  const counters = newCounters();
  const first = await experiment(mlpJob({ counters }), quiet(root));
  assert.equal(first.origin, 'trained');
  assert.deepEqual(counters, { inits: 1, epochs: 4, evaluations: 1 });
  const tensorsBefore = tf.memory().numTensors;

  const second = await experiment(mlpJob({ counters }), quiet(root));
  assert.equal(second.origin, 'loaded');
  assert.equal(second.id, first.id);
  assert.deepEqual(counters, { inits: 1, epochs: 4, evaluations: 1 }, 'a cache hit neither builds nor trains');
  assert.deepEqual(second.summary, first.summary);
  assert.equal(tf.memory().numTensors, tensorsBefore, 'loading creates no tensors');

  // A different config is another run.
  const other = await experiment(mlpJob({ counters, lr: 0.01 }), quiet(root));
  assert.notEqual(other.id, first.id);
  assert.equal(counters.epochs, 8);

  const forced = await experiment(mlpJob({ counters }), quiet(root, { force: true }));
  assert.equal(forced.origin, 'trained');
  assert.equal(counters.epochs, 12);
  assert.deepEqual(await checkpointWeights(forced), await checkpointWeights(first), 'same seed, same weights');
});

test('the run folder holds config, environment, metrics per step and epoch, summary with protocols, checkpoints, captions, attention', async () => {
  const root = rootOf('layout');
  const run = await experiment(mlpJob({ epochs: 3 }), quiet(root));
  const names = fs.readdirSync(run.dir).sort();
  for (const f of ['config.json', 'environment.json', 'metrics.jsonl', 'summary.json', 'status.json', 'checkpoints', 'captions-test.json', 'attention-test.json', 'attention-test.bin']) {
    assert.ok(names.includes(f), `${f} in ${names.join(', ')}`);
  }
  assert.ok(!names.includes('lock'), 'the lock is released');
  assert.match(run.id, /^mlp-[0-9a-f]{12}$/);
  assert.equal(run.id, jobRunId(mlpJob({ epochs: 3 })));

  const summary = JSON.parse(fs.readFileSync(path.join(run.dir, 'summary.json'), 'utf8'));
  assert.equal(summary.id, run.id);
  assert.equal(summary.status, 'finished');
  assert.equal(summary.backend, 'cpu');
  assert.deepEqual(summary.config, mlpJob().config);
  const valLoss = summary.metrics.find((m: { name: string; split?: string }) => m.name === 'loss' && m.split === 'val');
  assert.deepEqual(Object.keys(valLoss).sort(), ['epoch', 'implementation', 'name', 'protocol', 'split', 'value']);
  assert.equal(valLoss.protocol, 'teacher-forced');
  assert.equal(valLoss.implementation, 'captioning-lab');
  const bleu3 = summary.metrics.find((m: { name: string; beam?: number }) => m.name === 'BLEU-4' && m.beam === 3);
  assert.equal(bleu3.split, 'test');
  assert.equal(bleu3.protocol, 'free-running');
  assert.equal(bleu3.implementation, 'coco-caption');
  assert.ok(Math.abs(bleu3.value - 1 / (1 + valLoss.value)) < 1e-6, 'evaluation ran on the trained state');

  const history = run.history();
  const steps = history.filter((r) => r.kind === 'step');
  const epochs = history.filter((r) => r.kind === 'epoch');
  assert.equal(steps.length, 3 * 4);
  assert.deepEqual(steps.map((r) => r.step), Array.from({ length: 12 }, (_, i) => i + 1));
  assert.deepEqual(epochs.map((r) => r.epoch), [0, 1, 2]);
  assert.equal(epochs[2].val_loss, valLoss.value);
  assert.ok((epochs[2].loss as number) < (epochs[0].loss as number), 'the MLP learns');

  const status = run.status;
  assert.equal(status.status, 'finished');
  assert.equal(status.epochsCompleted, 3);
  const env = run.environment!;
  assert.equal(env.backend.kind, 'cpu');
  assert.equal(env.seed, 7);
  assert.ok(env.git.commit === 'unknown' || /^[0-9a-f]{40}$/.test(env.git.commit));
  assert.equal(env.packages['@tensorflow/tfjs'], tf.version.tfjs);

  // Checkpoints: the last two and the best (lowest val_loss) are kept; each sidecar has the config.
  const checkpoints = run.checkpoints();
  assert.ok(checkpoints.length >= 2 && checkpoints.length <= 3);
  const last = checkpoints[checkpoints.length - 1];
  assert.equal(last.epoch, 3);
  assert.equal(last.step, 12);
  assert.deepEqual(last.identity.config, summary.config);
  assert.equal(last.optimizers.adam.className, 'Adam');
  assert.ok(last.best && last.best.metric === 'val_loss');
  assert.deepEqual(run.captions('test'), [{ image_id: 1, caption: 'a red circle' }, { image_id: 2, caption: 'two blue squares' }]);
  const attention = run.attention('test')!;
  assert.deepEqual(attention[0].shape, [3, 2, 2]);
  assert.ok(Math.abs(attention[0].alphas[8] - 0.7) < 1e-7);

  // The restored model computes the val loss recorded for the last epoch.
  const job = mlpJob({ epochs: 3 });
  const state = await run.restore(job, 'last');
  const restoredWeights = await Promise.all(Object.values(state.vars).map((v) => v.data()));
  const saved = await checkpointWeights(run);
  assert.deepEqual(restoredWeights.map((a) => Array.from(a)), Object.values(saved));
  job.dispose!(state);
});

test('a failure at epoch k is recorded; rerunning says so and trains only the remaining epochs, to the same weights', async () => {
  const reference = await experiment(mlpJob({ epochs: 5 }), quiet(rootOf('reference')));
  const root = rootOf('failure');
  const counters = newCounters();
  await assert.rejects(experiment(mlpJob({ epochs: 5, failAt: 3, counters }), quiet(root)), (error: unknown) => {
    assert.ok(error instanceof RunFailedError);
    assert.match(error.message, /failed in epoch 4: injected failure/);
    assert.match(error.message, /status\.json/);
    return true;
  });
  const failed = loadRun(reference.id, { root });
  const status = failed.status;
  assert.equal(status.status, 'failed');
  assert.equal(status.epochsCompleted, 3);
  assert.match(status.error!.message, /injected failure/);
  assert.match(status.error!.stack!, /mlp-job\.ts/);
  assert.equal(failed.summary.status, 'failed');

  lines.length = 0;
  const retried = await experiment(mlpJob({ epochs: 5, counters }), quiet(root));
  assert.equal(retried.origin, 'resumed');
  assert.equal(retried.epochsTrainedNow, 2);
  assert.equal(counters.epochs, 4 + 2, '3 epochs + the failing one, then the remaining 2');
  assert.ok(lines.some((l) => /previous attempt failed in epoch 4: injected failure.*resuming from checkpoint epoch-0003/.test(l)), lines.join('\n'));
  assert.deepEqual(await checkpointWeights(retried), await checkpointWeights(reference), 'resumed weights equal the uninterrupted run');
  assert.deepEqual(retried.summary.metrics, reference.summary.metrics);
  assert.deepEqual(
    retried.history('step').map((r) => [r.step, r.epoch, r.loss]),
    reference.history('step').map((r) => [r.step, r.epoch, r.loss]),
    'metrics.jsonl has each step once, as in one uninterrupted run',
  );
  const attempts = retried.status.attempts;
  assert.deepEqual(attempts.map((a) => [a.status, a.startEpoch, a.epochsTrained]), [['failed', 0, 3], ['finished', 3, 2]]);
});

test('SIGINT stops after the epoch checkpoint and marks the run interrupted; rerunning resumes', async () => {
  const root = rootOf('sigint');
  const counters = newCounters();
  const listenersBefore = process.listenerCount('SIGINT');
  await assert.rejects(experiment(mlpJob({ epochs: 5, interruptAt: 1, counters }), quiet(root)), RunInterruptedError);
  assert.equal(process.listenerCount('SIGINT'), listenersBefore, 'the handler is removed');
  const id = jobRunId(mlpJob({ epochs: 5 }));
  const run = loadRun(id, { root });
  assert.equal(run.status.status, 'interrupted');
  assert.equal(run.status.epochsCompleted, 2, 'the interrupted epoch finished and was checkpointed');
  assert.equal(run.checkpoints().at(-1)!.epoch, 2);
  const resumed = await experiment(mlpJob({ epochs: 5, counters }), quiet(root));
  assert.equal(resumed.origin, 'resumed');
  assert.equal(counters.epochs, 5);
  assert.equal(resumed.status.status, 'finished');
});

test('damaged run folders are reported with their path, never silently reused', async () => {
  const root = rootOf('damaged');
  const run = await experiment(mlpJob({ epochs: 2 }), quiet(root));
  const metricsFile = path.join(run.dir, 'metrics.jsonl');
  const text = fs.readFileSync(metricsFile, 'utf8');

  // A truncated last line of a finished run.
  fs.writeFileSync(metricsFile, text.slice(0, text.length - 15));
  const counters = newCounters();
  await assert.rejects(experiment(mlpJob({ epochs: 2, counters }), quiet(root)), (error: unknown) => {
    assert.ok(error instanceof DamagedRunError);
    assert.equal(error.file, metricsFile);
    assert.match(error.message, new RegExp(`${metricsFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: line \\d+ is truncated`));
    return true;
  });
  assert.throws(() => loadRun(run.id, { root }), DamagedRunError);
  assert.equal(counters.inits, 0, 'nothing was trained over it');
  fs.writeFileSync(metricsFile, text);

  // A damaged line in the middle.
  const middle = text.split('\n');
  middle[2] = middle[2].slice(0, 10);
  fs.writeFileSync(metricsFile, middle.join('\n'));
  assert.throws(() => loadRun(run.id, { root }), /metrics\.jsonl: line 3 is damaged/);
  fs.writeFileSync(metricsFile, text);

  // Unparseable summary.json.
  const summaryFile = path.join(run.dir, 'summary.json');
  const summary = fs.readFileSync(summaryFile, 'utf8');
  fs.writeFileSync(summaryFile, summary.slice(0, 40));
  assert.throws(() => loadRun(run.id, { root }), (e: unknown) => e instanceof DamagedRunError && e.file === summaryFile && /not valid JSON/.test(e.message));
  fs.writeFileSync(summaryFile, summary);

  // A checkpoint file referenced by its sidecar is missing.
  const last = run.checkpoints().at(-1)!;
  const weights = path.join(run.dir, 'checkpoints', last.name, 'weights.bin');
  fs.renameSync(weights, weights + '.moved');
  await assert.rejects(experiment(mlpJob({ epochs: 2, counters }), quiet(root)), (e: unknown) => e instanceof DamagedRunError && e.file === weights && /referenced by .*checkpoint\.json but missing/.test(e.message));
  fs.renameSync(weights + '.moved', weights);
  assert.equal((await experiment(mlpJob({ epochs: 2, counters }), quiet(root))).origin, 'loaded');
  assert.equal(counters.inits, 0);
});

test('an interrupted run whose metrics.jsonl ends in a torn line resumes, dropping that line with a warning', async () => {
  const root = rootOf('torn');
  const counters = newCounters();
  await assert.rejects(experiment(mlpJob({ epochs: 3, failAt: 2, counters }), quiet(root)), RunFailedError);
  const id = jobRunId(mlpJob({ epochs: 3 }));
  const dir = path.join(root, 'runs', id);
  fs.appendFileSync(path.join(dir, 'metrics.jsonl'), '{"kind":"step","step":9,"ep');
  lines.length = 0;
  const run = await experiment(mlpJob({ epochs: 3, counters }), quiet(root));
  assert.ok(lines.some((l) => /warning: .*metrics\.jsonl: dropped line \d+/.test(l)), lines.join('\n'));
  assert.deepEqual(run.history('epoch').map((r) => r.epoch), [0, 1, 2]);
});
