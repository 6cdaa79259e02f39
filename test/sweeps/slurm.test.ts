// A sweep through a real Slurm cluster (issue #17): scripts/slurm-cluster.sh starts munged,
// slurmctld and slurmd on this machine (Debian's slurm-wlm; .ci/run and scripts/setup.sh install
// it). A 4-run sweep (2 decoder sizes x 2 seeds, a tiny captioner, a few epochs) is submitted as
// one job array; one task is cancelled mid-run; `sweep status` reports it failed with its log,
// `--resubmit-failed` submits it alone and its run resumes; a second `sweep run` submits nothing;
// and the local executor trains the same sweep into another run store with the same runs.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-slurm-'));
fs.chmodSync(work, 0o755); // munged refuses a socket under a folder others cannot enter (mkdtemp makes 0700)
const state = path.join(work, 'slurm');
const ports = { SLURM_CTLD_PORT: '6917', SLURMD_PORT: '6918' }; // not the defaults: a cluster of the machine's own may run
let slurmConf = '';

function cluster(command: 'start' | 'stop'): string {
  return execFileSync('bash', [path.join(ROOT, 'scripts', 'slurm-cluster.sh'), command, state], { encoding: 'utf8', env: { ...process.env, ...ports }, timeout: 120_000 });
}

function env(results: string): NodeJS.ProcessEnv {
  return { ...process.env, SLURM_CONF: slurmConf, CAPTIONING_RESULTS: results, CAPTIONING_BACKEND: 'wasm' };
}

function captioning(results: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'captioning.js'), ...args], { encoding: 'utf8', timeout: 600_000, env: env(results) });
  assert.equal(r.status, 0, `captioning ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function slurm(command: string, ...args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', env: { ...process.env, SLURM_CONF: slurmConf } });
}

async function until(what: string, seconds: number, check: () => boolean): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** No task of the job pending, running or completing. */
const jobDone = (jobId: string) => () => slurm('squeue', '-h', '-r', '-j', jobId, '-t', 'PD,R,CG').trim() === '';

/** The run folder of a run name in a run store, if it exists yet. */
function runFolderOf(results: string, name: string): string | undefined {
  const runs = path.join(results, 'runs');
  const id = fs.existsSync(runs) ? fs.readdirSync(runs).find((d) => d.startsWith(`${name}-`)) : undefined;
  return id && path.join(runs, id);
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

before(() => {
  const out = cluster('start');
  slurmConf = /export SLURM_CONF=(\S+)/.exec(out)?.[1] ?? '';
  assert.ok(slurmConf, `scripts/slurm-cluster.sh printed no SLURM_CONF:\n${out}`);
});

after(() => {
  cluster('stop');
});

test('a 4-run sweep on Slurm: array tasks train into the run store, a cancelled task is reported and resubmitted, and the local executor gives the same runs', { timeout: 900_000 }, async () => {
  const sweepFile = path.join(work, 'tiny.yaml');
  fs.writeFileSync(
    sweepFile,
    [
      'name: tiny-slurm',
      'metric: val BLEU-4 (free-running, greedy)',
      'profile: quick',
      'set:',
      `  data.dir: ${path.join(work, 'scenes')}`,
      '  data.scenes: { images: 40, size: 64, seed: 5, occlusion: 0, captionsPerImage: 5 }',
      '  encoder: { kind: small-cnn, inputSize: 64, normalisation: imagenet }',
      '  decoder.attention: 8',
      '  words.dim: 8',
      '  train: { epochs: 5, batchSize: 16 }',
      '  decode: { beam: 1, maxLength: 6, lengthPenalty: 0 }',
      'seeds: [1, 2]',
      'axes:',
      '  decoder.hidden: [8, 12]',
      'slurm: { cpusPerTask: 1 }',
      '',
    ].join('\n'),
  );
  const onSlurm = path.join(work, 'results-slurm');
  assert.match(captioning(onSlurm, 'sweep', 'plan', sweepFile), /4 to train/);

  // Submit; cancel the first request's task once its run has finished an epoch.
  assert.match(captioning(onSlurm, 'sweep', 'run', sweepFile, '--executor', 'slurm'), /submitted job \d+, 4 array tasks \(requests 0, 1, 2, 3\)/);
  const submissions = () => (readJson(path.join(onSlurm, 'sweeps', 'tiny-slurm', 'submissions.json')).submissions as { jobId: string; indices: number[] }[]);
  const first = submissions()[0];
  const victim = 'tiny-slurm-base-hidden-8-s1'; // request 0, array task 0
  await until(`${victim} to finish an epoch`, 300, () => {
    const folder = runFolderOf(onSlurm, victim);
    if (!folder || !fs.existsSync(path.join(folder, 'status.json'))) return false;
    const status = readJson(path.join(folder, 'status.json'));
    return status.status === 'running' && (status.epochsCompleted as number) >= 1;
  });
  slurm('scancel', `${first.jobId}_0`);
  await until(`job ${first.jobId} to end`, 300, jobDone(first.jobId));

  const status = JSON.parse(captioning(onSlurm, 'sweep', 'status', sweepFile, '--json')) as { runs: { name: string; state: string; task: { jobId: string; task: number; slurm: string } | null; logTail: string | null }[] };
  assert.deepEqual(status.runs.map((r) => r.state), ['failed', 'finished', 'finished', 'finished'], JSON.stringify(status.runs, null, 2));
  assert.match(status.runs[0].task!.slurm, /CANCELLED/);
  assert.match(status.runs[0].logTail ?? '', /task 0 of job \d+/, 'the failed task shows the end of its log');
  for (const [k, name] of [[1, 'tiny-slurm-base-hidden-8-s2'], [2, 'tiny-slurm-base-hidden-12-s1'], [3, 'tiny-slurm-base-hidden-12-s2']] as const) {
    const recorded = readJson(path.join(runFolderOf(onSlurm, name)!, 'environment.json')).scheduler as { kind: string; arrayJobId: string; arrayTaskId: number };
    assert.deepEqual([recorded.kind, recorded.arrayJobId, recorded.arrayTaskId], ['slurm', first.jobId, k], `${name}'s environment.json names its job and task`);
  }

  // Only the failed request again; its run resumes and finishes.
  assert.match(captioning(onSlurm, 'sweep', 'run', sweepFile, '--executor', 'slurm', '--resubmit-failed'), /submitted job \d+, 1 array tasks \(requests 0\)/);
  const second = submissions()[1];
  await until(`job ${second.jobId} to end`, 300, jobDone(second.jobId));
  const resumed = runFolderOf(onSlurm, victim)!;
  const attempts = readJson(path.join(resumed, 'status.json')).attempts as { status: string; startEpoch: number }[];
  assert.equal(readJson(path.join(resumed, 'status.json')).status, 'finished');
  assert.ok(attempts.length >= 2 && attempts[attempts.length - 1].startEpoch >= 1, `the resubmitted task resumed the run: ${JSON.stringify(attempts)}`);
  assert.equal((readJson(path.join(resumed, 'environment.json')).scheduler as { arrayJobId: string }).arrayJobId, second.jobId);
  assert.match(captioning(onSlurm, 'sweep', 'status', sweepFile), /4 finished/);
  assert.deepEqual((submissions()[1] as unknown as { names: string[] }).names, [victim], 'submissions name their requests');
  assert.match(captioning(onSlurm, 'sweep', 'run', sweepFile, '--executor', 'slurm'), /nothing to submit/);
  assert.match(captioning(onSlurm, 'sweep', 'plan', sweepFile), /nothing to train/);
  assert.equal(submissions().length, 2);

  // The local executor, the same sweep, another run store: the same runs and numbers.
  const local = path.join(work, 'results-local');
  assert.match(captioning(local, 'sweep', 'run', sweepFile, '--executor', 'local'), /4 runs finished/);
  const ids = (results: string) => fs.readdirSync(path.join(results, 'runs')).filter((d) => !d.startsWith('.')).sort(); // (.ids: the run store's index)
  assert.deepEqual(ids(local), ids(onSlurm));
  for (const id of ids(local)) {
    const metrics = (results: string) => readJson(path.join(results, 'runs', id, 'summary.json')).metrics;
    assert.deepEqual(metrics(local), metrics(onSlurm), `${id}: the same numbers on both executors`);
  }
});
