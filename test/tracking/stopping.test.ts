// How a run ends, as the run store records it: an early stop ends the loop (no epoch record
// or checkpoint past it), status.json and the summary say why, the summary's train and
// validation numbers are the best epoch's, and a resume of an early-stopped run trains no
// further. Identity is the content: the same content under another name is the same run.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { experiment, jobRunId, listRuns, loadRun, RunFailedError, runTable } from '../../src/tracking';
import { mlpJob, newCounters } from './fixtures/mlp-job';
import { storeFixture } from './fixtures/store';

const { lines, quiet, rootOf } = storeFixture('tracking-stop-');

const epochLines = (dir: string) =>
  fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number | string | null>)
    .filter((r) => r.kind === 'epoch');

test('an early stop ends the run at that epoch: records, checkpoints, status and summary stop there too', async () => {
  const root = rootOf('early');
  const counters = newCounters();
  // Epoch index 1 is made the best by a large shift down of its val_loss; the job stops in epoch index 3 of 10.
  const run = await experiment(mlpJob({ epochs: 10, stopAt: 3, valShift: { 1: -100 }, counters }), quiet(root));
  assert.equal(counters.epochs, 4, 'no epoch is trained after the stop');

  const epochs = epochLines(run.dir);
  assert.deepEqual(epochs.map((r) => r.epoch), [0, 1, 2, 3], 'one epoch record per trained epoch');
  for (const r of epochs) assert.equal(typeof r.val_loss, 'number', `epoch ${r.epoch} has its validation metric`);
  assert.deepEqual(run.checkpoints().map((c) => c.name), ['epoch-0002', 'epoch-0003', 'epoch-0004'], 'the best and the last two, none past the stop');
  assert.deepEqual(run.checkpoints().at(-1)?.stop, { reason: 'early-stop', epochs: 4, detail: 'injected early stop in epoch index 3' });

  const status = run.status;
  assert.equal(status.status, 'finished');
  assert.equal(status.epochsCompleted, 4);
  assert.deepEqual(status.stop, { reason: 'early-stop', epochs: 4, detail: 'injected early stop in epoch index 3' });

  const summary = run.summary;
  assert.deepEqual(summary.epochs, { planned: 10, completed: 4, best: 1 });
  assert.equal(summary.stop?.reason, 'early-stop');
  const val = run.metric('loss', { split: 'val' });
  assert.equal(val?.epoch, 1, 'validation loss is labelled with the best epoch');
  assert.equal(val?.value, epochs[1].val_loss, "the summary's validation loss is the best epoch's, not the last one's");
  assert.equal(run.metric('loss', { split: 'train' })?.value, epochs[1].loss, "the train loss too");
  assert.notEqual(epochs[3].val_loss, epochs[1].val_loss);
  assert.ok(lines.some((l) => /early stop after epoch 4 of 10/.test(l)), lines.join('\n'));

  // Listings show epochs trained, the best epoch (1-based) and why it stopped.
  const row = runTable({ root }).rows.find((r) => r.id === run.id)!;
  assert.deepEqual([row.epochs, row.best_epoch, row.stop], [4, 2, 'early stop @ 4']);

  // Asking again loads it as finished: nothing is trained or evaluated.
  const again = await experiment(mlpJob({ epochs: 10, stopAt: 3, valShift: { 1: -100 }, counters }), quiet(root));
  assert.equal(again.origin, 'loaded');
  assert.deepEqual(counters, { inits: 1, epochs: 4, evaluations: 1 });
});

test('a run that stopped early and died while evaluating resumes as stopped: it evaluates, trains nothing more', async () => {
  const root = rootOf('stopped-then-failed');
  const counters = newCounters();
  const job = () => mlpJob({ epochs: 8, stopAt: 1, evaluateFailures: 1, counters });
  await assert.rejects(experiment(job(), quiet(root)), (e: unknown) => e instanceof RunFailedError && /while evaluating/.test(e.message));
  assert.equal(counters.epochs, 2);
  const run = await experiment(job(), quiet(root));
  assert.equal(run.origin, 'resumed');
  assert.equal(run.epochsTrainedNow, 0, 'the checkpoint says training had ended');
  assert.deepEqual(counters, { inits: 2, epochs: 2, evaluations: 2 });
  assert.deepEqual(run.status.stop, { reason: 'early-stop', epochs: 2, detail: 'injected early stop in epoch index 1' });
  assert.deepEqual(epochLines(run.dir).map((r) => r.epoch), [0, 1]);
});

test('planned epochs reached: the stop says so', async () => {
  const root = rootOf('planned');
  const run = await experiment(mlpJob({ epochs: 2 }), quiet(root));
  assert.deepEqual(run.status.stop, { reason: 'planned', epochs: 2 });
  assert.deepEqual(run.summary.stop, { reason: 'planned', epochs: 2 });
});

test('the same content under another name is the same run: loaded, no second folder, the name kept as an alias', async () => {
  const root = rootOf('aliases');
  const counters = newCounters();
  const first = await experiment(mlpJob({ name: 'baseline', epochs: 2, counters }), quiet(root));
  const second = await experiment(mlpJob({ name: 'reference-arm', epochs: 2, counters }), quiet(root));
  assert.equal(second.origin, 'loaded');
  assert.equal(second.id, first.id);
  assert.deepEqual(counters, { inits: 1, epochs: 2, evaluations: 1 }, 'trained once');
  const folders = fs.readdirSync(path.join(root, 'runs')).filter((n) => !n.startsWith('.'));
  assert.deepEqual(folders, [first.id], 'one run folder');
  assert.deepEqual(loadRun(first.id, { root }).config.aliases, ['baseline', 'reference-arm']);
  assert.equal(jobRunId(mlpJob({ name: 'third-name', epochs: 2 }), { root }), first.id, 'the id of the content, whatever the name');
  assert.deepEqual(listRuns({ root, name: 'reference-arm' }).map((e) => e.id), [first.id], 'found by its alias');
  assert.ok(lines.some((l) => /asked for as "reference-arm": the same content/.test(l)));

  // Two names asked for at once in one process: one training.
  const before = counters.epochs;
  const [a, b] = await Promise.all([
    experiment(mlpJob({ name: 'left', epochs: 3, counters }), quiet(root)),
    experiment(mlpJob({ name: 'right', epochs: 3, counters }), quiet(root)),
  ]);
  assert.equal(a.id, b.id);
  assert.equal(counters.epochs - before, 3, 'trained once for both names');
  assert.deepEqual(loadRun(a.id, { root }).config.aliases, ['left', 'right']);
});

test('an epoch without the best-epoch metric fails the run naming the metric (never read as a score of 0)', async () => {
  const root = rootOf('missing-metric');
  const base = mlpJob({ epochs: 3 });
  const job: typeof base = {
    ...base,
    epoch: async (state, ctx) => {
      const { val_loss: _dropped, ...rest } = await base.epoch(state, ctx);
      return rest;
    },
  };
  await assert.rejects(experiment(job, quiet(root)), (e: unknown) => e instanceof RunFailedError && /best-epoch metric "val_loss" is missing/.test(e.message));
});

test('the store is the one judge of the best epoch: isImprovement follows it, restoreBest evaluates its checkpoint', async () => {
  const root = rootOf('best');
  const improvements: boolean[] = [];
  // val_loss of epoch index 1 is shifted down by 100: the best epoch, whatever training does after it.
  const run = await experiment(mlpJob({ epochs: 4, valShift: { 1: -100 }, improvements, evaluateBest: true }), quiet(root));
  assert.deepEqual(improvements, [true, true, false, false], 'each epoch is judged against the best so far, the store keeping the record');
  assert.deepEqual(run.summary.epochs, { planned: 4, completed: 4, best: 1 });
  const epochs = epochLines(run.dir);
  const unshifted = (e: number) => (epochs[e].val_loss as number) + (e === 1 ? 100 : 0);
  const evaluatedBest = run.metric('BLEU-4', { split: 'test', beam: 3 })?.value;
  assert.ok(Math.abs(evaluatedBest! - 1 / (1 + unshifted(1))) < 1e-6, `the test evaluation used the best epoch's weights: ${evaluatedBest} vs ${1 / (1 + unshifted(1))}`);

  // Without restoreBest the job evaluates the state as the loop left it: the last epoch's.
  const last = await experiment(mlpJob({ epochs: 4, valShift: { 1: -100 }, lr: 0.051 }), quiet(root));
  const lastEpochs = epochLines(last.dir);
  const evaluatedLast = last.metric('BLEU-4', { split: 'test', beam: 3 })?.value;
  assert.ok(Math.abs(evaluatedLast! - 1 / (1 + (lastEpochs[3].val_loss as number))) < 1e-6, `${evaluatedLast} vs the last epoch's ${lastEpochs[3].val_loss}`);
  assert.notEqual(unshifted(1), epochs[3].val_loss);
});
