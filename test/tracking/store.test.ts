// The store as a collection: listing (with damaged folders reported), comparisons as danfojs
// DataFrames (wide and long, sorted and filtered), removal, the `captioning runs` command and
// the export to MLflow's file store.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { runsCommand } from '../../src/cli/runs';
import { BACKEND_ENV_VAR, initBackend } from '../../src/compute/backend';
import { compareRuns, experiment, exportMlflow, listRuns, removeRun, RunBusyError, RunFailedError, type Run } from '../../src/tracking';
import { mlpJob } from './fixtures/mlp-job';

let root: string;
let runs: Run[];
let failedId: string;
let damagedId: string;

before(async () => {
  process.env[BACKEND_ENV_VAR] = 'cpu';
  await initBackend();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tracking-store-'));
  const quiet = { root, log: () => {}, progress: 'none' as const };
  runs = [await experiment(mlpJob({ lr: 0.05, epochs: 2 }), quiet), await experiment(mlpJob({ lr: 0.01, epochs: 2, hidden: 4 }), quiet)];
  await assert.rejects(experiment(mlpJob({ lr: 0.02, epochs: 3, failAt: 1 }), quiet), RunFailedError);
  failedId = listRuns({ root, status: 'failed' })[0].id;
  // A damaged copy of a finished run.
  damagedId = 'mlp-000000000000';
  fs.cpSync(runs[0].dir, path.join(root, 'runs', damagedId), { recursive: true });
  fs.writeFileSync(path.join(root, 'runs', damagedId, 'summary.json'), '{"id": ');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Runs `captioning runs …` in-process and returns what it printed. */
async function cli(...args: string[]): Promise<string> {
  let out = '';
  await runsCommand({ write: (text) => (out += text) }).exitOverride().parseAsync(['node', 'runs', '--results', root, ...args]);
  return out;
}

test('listing shows every folder with its status, and damaged ones with the problem and path', () => {
  const entries = listRuns({ root });
  assert.deepEqual(entries.map((e) => e.id).sort(), [...runs.map((r) => r.id), failedId, damagedId].sort());
  const damaged = entries.find((e) => e.id === damagedId)!;
  assert.match(damaged.problem!, new RegExp(`damaged run file .*${damagedId}.summary\\.json: not valid JSON`));
  assert.equal(entries.find((e) => e.id === failedId)!.status, 'failed');
  assert.equal(listRuns({ root, status: 'finished', includeDamaged: false }).length, 2);
});

test('compareRuns: a DataFrame with flattened params and one column per metric and protocol, sortable and filterable', async () => {
  const df = await compareRuns({ root });
  assert.deepEqual(df.shape, [2, df.columns.length], 'finished, undamaged runs only');
  for (const c of ['id', 'name', 'status', 'optimizer.lr', 'model.hidden', 'loss (val, teacher-forced, captioning-lab)', 'BLEU-4 (test, free-running, beam 3)', 'BLEU-4 (test, free-running, beam 1)']) {
    assert.ok(df.columns.includes(c), `${c} in ${df.columns.join(' | ')}`);
  }
  const bleu = 'BLEU-4 (test, free-running, beam 3)';
  const expected = runs
    .map((r) => ({ id: r.id, value: r.metric('BLEU-4', { beam: 3 })!.value }))
    .sort((a, b) => b.value - a.value);
  const sorted = await compareRuns({ root, sortBy: bleu, ascending: false, columns: ['id', bleu] });
  assert.deepEqual(sorted.columns, ['id', bleu]);
  assert.deepEqual(sorted.values, expected.map((e) => [e.id, e.value]));
  const filtered = await compareRuns({ root, where: { 'model.hidden': 4 } });
  assert.deepEqual(filtered.values.map((r) => (r as unknown[])[0]), [runs[1].id]);
  const predicate = await compareRuns({ root, where: (row) => Number(row['optimizer.lr']) > 0.02 });
  assert.equal(predicate.shape[0], 1);
  const long = await compareRuns({ root, format: 'long' });
  assert.deepEqual(long.columns, ['id', 'name', 'status', 'metric', 'split', 'protocol', 'beam', 'implementation', 'value', 'epoch']);
  assert.equal(long.shape[0], runs.reduce((n, r) => n + r.metrics.length, 0));
  await assert.rejects(compareRuns({ root, sortBy: 'BLEU' }), /sortBy: no column "BLEU"; the columns are "id", "name"/);
  const withFailed = await compareRuns({ root, status: ['finished', 'failed'], columns: ['id', 'status'] });
  assert.deepEqual(withFailed.values.map((r) => (r as unknown[])[1]).sort(), ['failed', 'finished', 'finished']);
  const none = await compareRuns({ root: path.join(root, 'nowhere') });
  assert.equal(none.shape[0], 0);
});

test('captioning runs list | show | compare print the store', async () => {
  const list = await cli('list');
  for (const id of [...runs.map((r) => r.id), failedId, damagedId]) assert.ok(list.includes(id), id);
  assert.match(list, new RegExp(`${failedId}\\s+failed\\s+1/3`));
  assert.match(list, /damaged/);
  const show = await cli('show', runs[0].id.slice(0, 8) === runs[1].id.slice(0, 8) ? runs[0].id : runs[0].id.slice(-12));
  assert.match(show, new RegExp(`run\\s+${runs[0].id}`));
  assert.match(show, /BLEU-4\s+[\d.]+\s+test, free-running, beam 3, coco-caption\n/);
  assert.match(show, /loss\s+[\d.]+\s+val, teacher-forced, captioning-lab\s+2\n/);
  assert.match(show, /optimizer\.lr = 0\.05/);
  const compare = await cli('compare', '--sort', 'optimizer.lr', '--columns', 'id', 'optimizer.lr');
  const lines = compare.trim().split('\n');
  assert.deepEqual(lines.slice(2).map((l) => l.split(/\s+/)), [[runs[1].id, '0.01'], [runs[0].id, '0.05']]);
  await assert.rejects(cli('show', 'nope'), /no run "nope" in/);
});

test("export to MLflow's file store: meta.yaml, params, metrics 'timestamp value step', tags, artifacts", () => {
  const out = path.join(root, 'mlruns');
  const result = exportMlflow({ root, out, status: ['finished', 'failed'] });
  assert.deepEqual(result.runs.map((r) => r.id).sort(), [...runs.map((r) => r.id), failedId].sort());
  const experimentDir = path.join(out, result.experimentId);
  const experimentMeta = fs.readFileSync(path.join(experimentDir, 'meta.yaml'), 'utf8');
  assert.match(experimentMeta, new RegExp(`^experiment_id: '${result.experimentId}'$`, 'm'));
  assert.match(experimentMeta, /^name: 'captioning-lab'$/m);
  assert.match(experimentMeta, /^lifecycle_stage: 'active'$/m);
  assert.ok(fs.existsSync(path.join(out, '.trash')));

  const run = runs[0];
  const dir = path.join(experimentDir, run.id);
  const meta = fs.readFileSync(path.join(dir, 'meta.yaml'), 'utf8');
  assert.match(meta, new RegExp(`^run_id: '${run.id}'$`, 'm'));
  assert.match(meta, /^status: 3$/m, 'FINISHED');
  assert.match(meta, new RegExp(`^artifact_uri: 'file://${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/artifacts'$`, 'm'));
  assert.match(fs.readFileSync(path.join(experimentDir, failedId, 'meta.yaml'), 'utf8'), /^status: 4$/m, 'FAILED');
  assert.equal(fs.readFileSync(path.join(dir, 'params', 'optimizer.lr'), 'utf8'), '0.05');
  assert.equal(fs.readFileSync(path.join(dir, 'params', 'fingerprint.dataset'), 'utf8'), 'synthetic-v1');

  // Step losses: one line per optimiser step, "timestamp value step", values as in metrics.jsonl.
  const steps = run.history('step');
  const lossLines = fs.readFileSync(path.join(dir, 'metrics', 'loss'), 'utf8').trim().split('\n').map((l) => l.split(' '));
  assert.equal(lossLines.length, steps.length);
  lossLines.forEach(([ts, value, step], i) => {
    assert.equal(Number(ts), steps[i].time);
    assert.equal(Number(value), steps[i].loss);
    assert.equal(Number(step), steps[i].step);
  });
  const epochLines = fs.readFileSync(path.join(dir, 'metrics', 'epoch.val_loss'), 'utf8').trim().split('\n');
  assert.deepEqual(epochLines.map((l) => Number(l.split(' ')[2])), [0, 1]);
  const bleu = run.metric('BLEU-4', { beam: 3 })!;
  const bleuLine = fs.readFileSync(path.join(dir, 'metrics', 'BLEU-4.test.free-running.beam3'), 'utf8').trim().split(' ');
  assert.equal(Number(bleuLine[1]), bleu.value);
  const tag = JSON.parse(fs.readFileSync(path.join(dir, 'tags', 'captioning.metric.BLEU-4.test.free-running.beam3'), 'utf8'));
  assert.deepEqual(tag, { name: 'BLEU-4', split: 'test', protocol: 'free-running', beam: 3, implementation: 'coco-caption' });
  assert.equal(fs.readFileSync(path.join(dir, 'tags', 'mlflow.runName'), 'utf8'), run.id);
  for (const f of ['summary.json', 'config.json', 'metrics.jsonl', 'captions-test.json']) assert.ok(fs.existsSync(path.join(dir, 'artifacts', f)), f);

  // The YAML parses as MLflow reads it (PyYAML), where Python and PyYAML exist.
  const py = spawnSync('python3', ['-c', 'import sys, yaml, json; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', path.join(dir, 'meta.yaml')], { encoding: 'utf8' });
  if (py.status === 0) {
    const parsed = JSON.parse(py.stdout);
    assert.equal(parsed.run_id, run.id);
    assert.equal(parsed.experiment_id, result.experimentId);
    assert.deepEqual(parsed.tags, []);
    assert.equal(parsed.deleted_time, null);
  }
  // Exporting again replaces the same folders.
  assert.equal(exportMlflow({ root, out }).experimentId, result.experimentId);
});

test('removing a run: refused while a live process holds its lock, then done', async () => {
  const id = runs[1].id;
  const lockFile = path.join(runs[1].dir, 'lock');
  fs.writeFileSync(lockFile, JSON.stringify({ runId: id, pid: process.ppid, hostname: os.hostname(), startedAt: new Date().toISOString(), token: 'x' }));
  await assert.rejects(removeRun(id, { root }), RunBusyError);
  fs.rmSync(lockFile);
  assert.match(await cli('rm', id), new RegExp(`removed .*${id}`));
  assert.ok(!fs.existsSync(runs[1].dir));
  assert.ok(!listRuns({ root }).some((e) => e.id === id));
});
