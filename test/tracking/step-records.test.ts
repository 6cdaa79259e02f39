// metrics.jsonl at COCO scale: step lines aggregated (k steps a line, their means; at most
// about 100 lines an epoch by default), the size of a paper-length log, resume over aggregated
// lines, listings that never read metrics.jsonl, and a history parsed once per Run.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { runsCommand } from '../../src/cli/runs';
import { DamagedRunError, experiment, jobRunId, listRuns, loadRun, Run, RunFailedError, runTable, type MetricRecord, type TrainingJob } from '../../src/tracking';
import { AUTO_LINES_PER_EPOCH, FALLBACK_STEPS_PER_LINE, StepRecords, stepsPerLineFor } from '../../src/tracking/step-records';
import { storeFixture } from './fixtures/store';

const { quiet, rootOf } = storeFixture('tracking-steps-');

/** The synthetic loss of global step `s` (1-based): deterministic, so means can be checked. */
const lossAt = (s: number) => 5 / Math.sqrt(s) + 0.001 * (s % 7);

interface SyntheticOptions {
  steps: number;
  epochs: number;
  /** Not part of the config: skip ctx.setSteps. */
  noSetSteps?: boolean;
  /** Not part of the config: throw in this epoch (index) after `failAfter` steps. */
  failAt?: number;
  failAfter?: number;
  /** Not part of the config: a non-finite loss at these global steps. */
  nanAt?: number[];
  /** Not part of the config: receives logStep's return values. */
  returned?: number[];
}

/** A job without tensors: `steps` steps an epoch, each logging lossAt(global step). */
function syntheticJob(o: SyntheticOptions): TrainingJob<{ failed: boolean }> {
  let failures = 0;
  return {
    name: 'synthetic',
    config: { kind: 'synthetic-steps', steps: o.steps },
    epochs: o.epochs,
    seed: 1,
    init: () => ({ failed: false }),
    epoch: async (_state, ctx) => {
      if (!o.noSetSteps) ctx.setSteps(o.steps);
      let total = 0;
      for (let i = 0; i < o.steps; i++) {
        if (o.failAt === ctx.epoch && i === (o.failAfter ?? 0) && failures === 0) {
          failures += 1;
          throw new Error(`injected failure in epoch index ${ctx.epoch}`);
        }
        const s = ctx.stepsBefore + i + 1;
        const loss = o.nanAt?.includes(s) ? Number.NaN : lossAt(s);
        const returned = ctx.logStep({ loss });
        o.returned?.push(returned);
        total += lossAt(s);
      }
      return { loss: total / o.steps, val_loss: 1 / (ctx.epoch + 1) };
    },
    saveCheckpoint: async (_state, writer) => writer.setState({}),
    loadCheckpoint: async () => {},
  };
}

const stepLines = (records: readonly MetricRecord[]) => records.filter((r) => r.kind === 'step');

test('stepsPerLineFor: auto gives at most 100 lines an epoch, 50 steps a line without a step count', () => {
  assert.equal(AUTO_LINES_PER_EPOCH, 100);
  assert.equal(stepsPerLineFor('auto', 4), 1);
  assert.equal(stepsPerLineFor('auto', 100), 1);
  assert.equal(stepsPerLineFor('auto', 101), 2);
  assert.equal(stepsPerLineFor('auto', 17_700), 177);
  assert.equal(Math.ceil(17_700 / 177), 100);
  assert.equal(stepsPerLineFor('auto'), FALLBACK_STEPS_PER_LINE);
  assert.equal(stepsPerLineFor(1, 17_700), 1);
  assert.equal(stepsPerLineFor(7, 17_700), 7);
});

test('a paper-length log (17.7k steps x 120 epochs) is about 100 lines an epoch and under 5 MB', (t) => {
  const stepsPerEpoch = 17_700;
  const epochs = 120;
  let bytes = 0;
  let lines = 0;
  const linesPerEpoch = new Map<number, number>();
  let stepsSeen = 0;
  const writeLine = (record: MetricRecord) => {
    bytes += Buffer.byteLength(JSON.stringify(record) + '\n');
    lines += 1;
    if (record.kind === 'step') {
      linesPerEpoch.set(record.epoch, (linesPerEpoch.get(record.epoch) ?? 0) + 1);
      stepsSeen += record.steps as number;
    }
  };
  const records = new StepRecords('auto', writeLine);
  const start = Date.UTC(2025, 0, 1);
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    records.startEpoch();
    records.setSteps(stepsPerEpoch);
    for (let i = 0; i < stepsPerEpoch; i++) {
      step += 1;
      records.add(step, epoch, { loss: lossAt(step) }, start + step * 250);
    }
    records.flush();
    writeLine({ kind: 'epoch', step, epoch, time: start + step * 250, loss: 2.345678901234567, val_loss: 2.456789012345678 });
  }
  assert.equal(stepsSeen, stepsPerEpoch * epochs, 'every step is in one line');
  assert.ok([...linesPerEpoch.values()].every((n) => n <= AUTO_LINES_PER_EPOCH), `step lines per epoch: ${[...new Set(linesPerEpoch.values())]}`);
  t.diagnostic(`paper-length metrics.jsonl: ${lines} lines, ${bytes} bytes (${(bytes / 1e6).toFixed(2)} MB; one line per step would be ${stepsPerEpoch * epochs + epochs} lines)`);
  assert.ok(bytes < 5e6, `${bytes} bytes`);
});

test('a long epoch is written as at most ~100 step lines holding the means of their steps', async (t) => {
  const root = rootOf('long');
  const returned: number[] = [];
  const run = await experiment(syntheticJob({ steps: 2000, epochs: 3, returned }), quiet(root));
  assert.deepEqual(returned, Array.from({ length: 6000 }, (_, i) => i + 1), 'logStep returns the global step of every step');

  const text = fs.readFileSync(path.join(run.dir, 'metrics.jsonl'), 'utf8');
  const history = run.history();
  for (let epoch = 0; epoch < 3; epoch++) {
    const lines = history.filter((r) => r.epoch === epoch);
    assert.ok(lines.length <= 101, `epoch ${epoch}: ${lines.length} lines`);
    assert.equal(lines.at(-1)!.kind, 'epoch', 'the epoch record follows its step lines');
  }
  const steps = stepLines(history);
  assert.equal(steps.length, 300, 'k = ceil(2000 / 100) = 20 steps a line');
  let first = 1;
  for (const line of steps) {
    assert.equal(line.steps, 20);
    assert.equal(line.step, first + 19, 'step: the last step of the line');
    let sum = 0;
    for (let s = first; s <= line.step; s++) sum += lossAt(s);
    assert.ok(Math.abs((line.loss as number) - sum / 20) < 1e-12, `step ${line.step}: mean ${line.loss} vs ${sum / 20}`);
    first = line.step + 1;
  }

  // The size of a line, extrapolated to the paper's length: 120 epochs x (100 step lines + 1 epoch line),
  // with the longest line seen here plus room for the paper's larger step and epoch numbers.
  const longest = Math.max(...text.split('\n').map((l) => Buffer.byteLength(l) + 1));
  const paperBytes = 120 * 101 * (longest + 8);
  t.diagnostic(`2,000 steps x 3 epochs: ${text.length} bytes, ${history.length} lines, longest ${longest} bytes; paper length <= ${paperBytes} bytes`);
  assert.ok(paperBytes < 5e6, `${paperBytes} bytes`);
});

test('stepsPerLine: 1 keeps a line per step, k groups k steps, no setSteps falls back to 50; not part of the identity', async () => {
  const every = await experiment(syntheticJob({ steps: 130, epochs: 1 }), quiet(rootOf('every'), { stepsPerLine: 1 }));
  const lines1 = stepLines(every.history());
  assert.equal(lines1.length, 130);
  assert.deepEqual(lines1.slice(0, 3).map((r) => [r.step, r.steps, r.loss]), [1, 2, 3].map((s) => [s, 1, lossAt(s)]), 'a line per step holds its exact value');

  const seven = await experiment(syntheticJob({ steps: 130, epochs: 2 }), quiet(rootOf('seven'), { stepsPerLine: 7 }));
  assert.equal(seven.id, jobRunId(syntheticJob({ steps: 130, epochs: 2 })), 'the run id does not depend on stepsPerLine');
  const lines7 = stepLines(seven.history());
  assert.deepEqual(lines7.filter((r) => r.epoch === 0).map((r) => r.steps), [...Array(18).fill(7), 4], 'the partial group ends the epoch');
  assert.deepEqual(lines7.filter((r) => r.epoch === 1)[0].step, 137, 'groups restart with each epoch');

  const fallback = await experiment(syntheticJob({ steps: 130, epochs: 1, noSetSteps: true }), quiet(rootOf('fallback')));
  assert.deepEqual(stepLines(fallback.history()).map((r) => [r.step, r.steps]), [[50, 50], [100, 50], [130, 30]]);

  // The option is not part of the run: the same job under another option loads the finished run.
  const again = await experiment(syntheticJob({ steps: 130, epochs: 1 }), quiet(rootOf('every'), { stepsPerLine: 'auto' }));
  assert.equal(again.origin, 'loaded');
  assert.equal(again.id, every.id);

  await assert.rejects(experiment(syntheticJob({ steps: 10, epochs: 1 }), quiet(rootOf('bad'), { stepsPerLine: 0 })), /stepsPerLine should be 'auto' or an integer >= 1/);
});

test('a non-finite step value makes its line null, as a single step is today', async () => {
  const run = await experiment(syntheticJob({ steps: 300, epochs: 1, nanAt: [5] }), quiet(rootOf('nan')));
  const lines = stepLines(run.history());
  assert.equal(lines[0].steps, 3);
  assert.equal(lines[1].loss, null, 'steps 4-6 hold a NaN');
  assert.equal(typeof lines[2].loss, 'number');
});

test('a run failed mid-epoch resumes to the same aggregated history as an uninterrupted one', async () => {
  const reference = await experiment(syntheticJob({ steps: 250, epochs: 3 }), quiet(rootOf('reference')));
  const root = rootOf('retried');
  await assert.rejects(experiment(syntheticJob({ steps: 250, epochs: 3, failAt: 1, failAfter: 151 }), quiet(root)), RunFailedError);
  const dir = path.join(root, 'runs', jobRunId(syntheticJob({ steps: 250, epochs: 3 })));
  const failed = stepLines(new Run('x', dir).history());
  assert.equal(failed.at(-1)!.step, 250 + 151, "the failed epoch's last steps were flushed");
  const retried = await experiment(syntheticJob({ steps: 250, epochs: 3 }), quiet(root));
  assert.equal(retried.origin, 'resumed');
  const shape = (run: Run) => run.history().map((r) => [r.kind, r.step, r.epoch, r.steps ?? null, r.loss]);
  assert.deepEqual(shape(retried), shape(reference));
  assert.equal(stepLines(retried.history()).filter((r) => r.epoch === 1).length, 84, 'k = 3: 83 lines of 3 and one of 1');
});

test('listing, tables and `runs list` never read metrics.jsonl; history() and loadRun do', async () => {
  const root = rootOf('listing');
  const run = await experiment(syntheticJob({ steps: 20, epochs: 2 }), quiet(root));
  const metricsFile = path.join(run.dir, 'metrics.jsonl');
  fs.writeFileSync(metricsFile, 'this is not JSON\nnor this\n');

  const entries = listRuns({ root });
  assert.equal(entries.length, 1);
  assert.equal(entries[0].problem, undefined);
  assert.equal(entries[0].status, 'finished');
  assert.equal(runTable({ root }).rows.length, 1);
  let out = '';
  await runsCommand({ write: (text) => (out += text) }).exitOverride().parseAsync(['node', 'runs', '--results', root, 'list']);
  assert.match(out, new RegExp(`${run.id}\\s+finished`));

  const fresh = new Run(run.id, run.dir);
  assert.throws(() => fresh.history(), (e: unknown) => e instanceof DamagedRunError && e.file === metricsFile && /line 1 is damaged/.test(e.message));
  assert.throws(() => loadRun(run.id, { root }), (e: unknown) => e instanceof DamagedRunError && e.file === metricsFile);
});

test('history() is parsed once per Run while the file is unchanged', async () => {
  const run = await experiment(syntheticJob({ steps: 20, epochs: 2 }), quiet(rootOf('cache')));
  const first = run.history();
  const second = run.history();
  assert.notEqual(first, second, 'a new array each call');
  assert.equal(first[0], second[0], 'the same parsed records');
  assert.equal(run.history('epoch')[1], first.at(-1));
  fs.appendFileSync(path.join(run.dir, 'metrics.jsonl'), JSON.stringify({ kind: 'epoch', step: 40, epoch: 2, time: 0, loss: 1 }) + '\n');
  assert.equal(run.history().length, first.length + 1, 'a changed file is read again');
});
