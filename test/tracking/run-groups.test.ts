// Runs grouped by seed (src/tracking/run-groups.ts, issue #18): six real runs of the run store's
// MLP job (two configs x three seeds) become two rows with n, seeds, mean / sd / min / max per
// metric computed from the runs, only the config key that differs, and a pinned baseline row with
// difference columns.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { BACKEND_ENV_VAR, initBackend } from '../../src/compute/backend';
import { compareRuns, experiment, groupBySeed, groupColumn, runTable, type Run } from '../../src/tracking';
import { mlpJob } from './fixtures/mlp-job';

let root: string;
const runs: Run[] = [];

before(async () => {
  process.env[BACKEND_ENV_VAR] = 'cpu';
  await initBackend();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'run-groups-'));
  const quiet = { root, log: () => {}, progress: 'none' as const };
  for (const hidden of [4, 8]) for (const seed of [1, 2, 3]) runs.push(await experiment(mlpJob({ name: `mlp-h${hidden}-s${seed}`, hidden, seed, epochs: 2 }), quiet));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

const LOSS = 'loss (val, teacher-forced, captioning-lab)';

test('runs that differ only by seed are one row: n, seeds, mean / sd / min / max per metric, only the keys that differ', () => {
  const table = runTable({ root, groupSeeds: true, sortBy: 'model.hidden' });
  assert.equal(table.rows.length, 2);
  assert.deepEqual(table.columns.slice(0, 4), ['group', 'n', 'seeds', 'model.hidden'], 'the one config key that differs, not the others');
  for (const [k, hidden] of [4, 8].entries()) {
    const row = table.rows[k];
    const values = runs.filter((r) => r.id.startsWith(`mlp-h${hidden}-s`)).map((r) => r.metric('loss', { split: 'val' })!.value);
    const mean = values.reduce((a, b) => a + b, 0) / 3;
    assert.deepEqual([row.group, row.n, row.seeds, row['model.hidden']], [`mlp-h${hidden}`, 3, '1, 2, 3', hidden]);
    assert.ok(Math.abs((row[groupColumn.mean(LOSS)] as number) - mean) < 1e-12);
    assert.ok(Math.abs((row[groupColumn.sd(LOSS)] as number) - Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / 2)) < 1e-12);
    assert.deepEqual([row[groupColumn.min(LOSS)], row[groupColumn.max(LOSS)]], [Math.min(...values), Math.max(...values)]);
  }
});

test('a pinned baseline gives each row its difference; a baseline matching no group or several is an error', async () => {
  const table = runTable({ root, groupSeeds: true, baseline: { 'model.hidden': 4 }, sortBy: 'model.hidden' });
  const [base, other] = table.rows;
  assert.deepEqual([base.baseline, other.baseline], [true, false]);
  assert.equal(base[groupColumn.difference(LOSS)], 0);
  assert.equal(other[groupColumn.difference(LOSS)], (other[groupColumn.mean(LOSS)] as number) - (base[groupColumn.mean(LOSS)] as number));
  assert.throws(() => runTable({ root, groupSeeds: true, baseline: { 'model.hidden': 16 } }), /matches 0 of the groups \("mlp-h4", "mlp-h8"\)/);
  assert.throws(() => runTable({ root, groupSeeds: true, baseline: () => true }), /matches 2 of the groups/);
  assert.throws(() => runTable({ root, baseline: { 'model.hidden': 4 } }), /set groupSeeds: true too/);
  const df = await compareRuns({ root, groupSeeds: true, where: { seed: 1 }, columns: ['group', 'n'] });
  assert.deepEqual(df.values, [['mlp-h4', 1], ['mlp-h8', 1]], '`where` picks runs before they are grouped');
  assert.throws(() => groupBySeed({ columns: ['id'], rows: [] }), /says nothing of its config and metric columns/);
});
