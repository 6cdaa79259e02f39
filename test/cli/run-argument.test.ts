// The `<run>` argument of `captioning eval`: a run id, a unique id prefix, or the run folder
// `captioning train` printed (absolute or relative, in the store or elsewhere); anything else
// is an error naming the argument.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { openRunArgument } from '../../src/cli/run-argument';
import { BACKEND_ENV_VAR, initBackend } from '../../src/compute/backend';
import { experiment, type Run } from '../../src/tracking';
import { mlpJob } from '../tracking/fixtures/mlp-job';

const ROOT = path.resolve(__dirname, '..', '..');
let tmp: string;
let root: string;
let runs: Run[];

before(async () => {
  process.env[BACKEND_ENV_VAR] = 'cpu';
  await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-run-argument-'));
  root = path.join(tmp, 'results');
  const quiet = { root, log: () => {}, progress: 'none' as const };
  runs = [await experiment(mlpJob({ name: 'mlp', lr: 0.05, epochs: 1 }), quiet), await experiment(mlpJob({ name: 'mlp', lr: 0.01, epochs: 1 }), quiet)];
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('an id, a unique prefix, the hash alone, and the folder (absolute or relative) open the same run', () => {
  const [run, other] = runs;
  const hash = run.id.slice(run.id.lastIndexOf('-') + 1);
  let n = 1;
  while (other.id.startsWith(`mlp-${hash.slice(0, n)}`)) n += 1;
  const prefix = `mlp-${hash.slice(0, n)}`;
  for (const given of [run.id, prefix, hash, run.dir, `${run.dir}${path.sep}`, path.relative(process.cwd(), run.dir)]) {
    const opened = openRunArgument(given, { root });
    assert.equal(opened.id, run.id, given);
    assert.equal(fs.realpathSync(opened.dir), fs.realpathSync(run.dir), given);
  }
  // From inside the run store of another results root: the bare name is a folder here.
  const cwd = process.cwd();
  try {
    process.chdir(path.join(root, 'runs'));
    assert.equal(openRunArgument(run.id, { root: path.join(tmp, 'elsewhere') }).id, run.id);
    assert.equal(openRunArgument(`.${path.sep}${run.id}`, { root }).id, run.id);
  } finally {
    process.chdir(cwd);
  }
});

test('a run folder outside the store is opened from its path', () => {
  const copied = path.join(tmp, 'copy', runs[0].id);
  fs.cpSync(runs[0].dir, copied, { recursive: true });
  const opened = openRunArgument(copied, { root });
  assert.equal(opened.dir, fs.realpathSync(copied));
  assert.equal(opened.summary.id, runs[0].id);
  const store = path.join(tmp, 'other-results', 'runs', runs[0].id);
  fs.cpSync(runs[0].dir, store, { recursive: true });
  assert.equal(openRunArgument(store, { root }).dir, path.join(fs.realpathSync(path.join(tmp, 'other-results')), 'runs', runs[0].id), "another store's folder");
});

test('anything else is an error naming the argument and what it may be', () => {
  assert.throws(() => openRunArgument('nothing-here', { root, argument: 'eval <run>' }), /^Error: eval <run> "nothing-here" is not a run id, a unique id prefix or a run folder: no run "nothing-here" in .*runs \(runs: mlp-/);
  assert.throws(() => openRunArgument('mlp', { root, argument: 'eval <run>' }), /^Error: eval <run> "mlp": "mlp" matches 2 runs in .*; give more of the id/);
  assert.throws(() => openRunArgument(path.join(tmp, 'missing', 'folder'), { root, argument: 'eval <run>' }), /eval <run> ".*missing.folder": no such folder/);
  assert.throws(() => openRunArgument(tmp, { root, argument: 'eval <run>' }), /eval <run> ".*": the folder .* is not a run folder \(it has no status\.json\)/);
});

test('captioning eval takes the folder captioning train prints, and names the argument when it is no run', () => {
  const env = { ...process.env, CAPTIONING_RESULTS: root, CAPTIONING_BACKEND: 'cpu' };
  const captioning = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'captioning.js'), ...args], { encoding: 'utf8', timeout: 120_000, env });
  const missing = captioning('eval', 'nothing-here');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /eval <run> "nothing-here" is not a run id, a unique id prefix or a run folder: no run "nothing-here"/);
  // The folder is accepted: what fails next is that this run's config is not a captioner's (the fixture is a small MLP).
  const folder = captioning('eval', runs[0].dir);
  assert.equal(folder.status, 1);
  assert.doesNotMatch(folder.stderr, /no run |not a run id|not a run folder/, folder.stderr);
  assert.match(folder.stderr, /config/, folder.stderr);
});
