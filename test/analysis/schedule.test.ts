// Is a shorter schedule long enough (src/analysis/schedule.ts)? Tiny captioners trained through
// the run store for 2 and 4 epochs with the same seed: the short run repeats the full run's first
// epochs exactly, its share of the full run's test score is read from both summaries, and the
// checkpoint a run of E epochs keeps is the first best of its first E epochs.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';

import { keptByLength, scheduleCheck } from '../../src/analysis/schedule';
import { selectBackend } from '../../src/compute/backend';
import type { Run } from '../../src/tracking';
import { trainTinyCaptioner } from './tiny-captioner';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'schedule-'));
const runs: Record<string, Run> = {};

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
  const train = async (name: string, epochs: number, seed: number) => {
    runs[name] = await trainTinyCaptioner(root, name, { seed, epochs, patience: 10 });
  };
  await train('full-s1', 4, 1);
  await train('short-s1', 2, 1);
  await train('short-s2', 2, 2);
});

test('a shorter schedule repeats the first epochs of the full one; its share of the full test score comes from both summaries', () => {
  const check = scheduleCheck([{ seed: 1, full: runs['full-s1'], short: runs['short-s1'] }], { beam: 1, bar: 0.5 });
  const score = (run: Run) => run.metric('BLEU-4', { split: 'test', beam: 1 })!.value;
  assert.equal(check.seeds[0].samePath, true, 'epochs 1-2 of the 4-epoch run are the 2-epoch run');
  assert.deepEqual([check.seeds[0].fullEpochs, check.seeds[0].shortEpochs], [4, 2]);
  assert.equal(check.full.mean, score(runs['full-s1']));
  assert.equal(check.share, score(runs['short-s1']) / score(runs['full-s1']));
  assert.equal(check.meets, check.share >= 0.5);
  // Another seed is another path.
  assert.equal(scheduleCheck([{ seed: 2, full: runs['full-s1'], short: runs['short-s2'] }], { beam: 1 }).seeds[0].samePath, false);
  assert.throws(() => scheduleCheck([{ seed: 1, full: runs['full-s1'], short: runs['short-s1'] }], { beam: 5 }), /seed 1: run .* has no free-running test BLEU-4 with beam 5/);
  assert.throws(() => scheduleCheck([]), /at least one seed/);
});

test('keptByLength: at each length E, the validation score of the first best of the first E epochs', () => {
  const [curve] = keptByLength([runs['full-s1']]);
  const values = runs['full-s1'].history('epoch').map((r) => r.val_bleu4 as number);
  assert.equal(curve.records.length, values.length);
  curve.records.forEach((r, e) => assert.equal(r.value, Math.max(...values.slice(0, e + 1)), `E = ${e + 1}`));
  const kept = runs['full-s1'].summary.best!;
  assert.equal(curve.records.at(-1)!.value, kept.value, "at the full length, the run's own best");
});
