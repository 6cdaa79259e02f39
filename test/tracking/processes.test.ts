// Runs across processes: a training killed with SIGKILL resumes from its last checkpoint to the
// weights of an uninterrupted run; two processes asking for one run train it once; a live
// owner makes `onBusy: 'fail'` throw a clear error.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { BACKEND_ENV_VAR, initBackend } from '../../src/compute/backend';
import { experiment, jobRunId, loadRun, RunBusyError } from '../../src/tracking';
import { checkpointWeights, mlpJob, newCounters } from './fixtures/mlp-job';

const CHILD = path.join(__dirname, 'fixtures', 'train-child.ts');
let tmp: string;

before(async () => {
  process.env[BACKEND_ENV_VAR] = 'cpu';
  await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tracking-proc-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Child {
  process: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  /** Resolves when a stdout line matches. */
  waitFor(pattern: RegExp): Promise<string>;
}

function startChild(args: object): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], {
    cwd: path.resolve(__dirname, '..', '..'),
    env: { ...process.env, [BACKEND_ENV_VAR]: 'cpu' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    process: child,
    lines,
    exited,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((l) => pattern.test(l));
        if (seen) return resolve(seen);
        waiters.push({ pattern, resolve });
        exited.then((code) => reject(new Error(`child exited (${code}) before printing ${pattern}: ${lines.join('\n')}\n${stderr}`)));
      }),
  };
}

function resultOf(child: Child): { id: string; origin: string; counters: { inits: number; epochs: number }; pid: number } {
  const line = child.lines.find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no RESULT line in:\n${child.lines.join('\n')}`);
  return JSON.parse(line.slice('RESULT '.length));
}

test('a training killed with SIGKILL resumes from its last checkpoint and ends with the uninterrupted weights', async () => {
  const root = path.join(tmp, 'killed');
  const child = startChild({ root, epochs: 5, delayMs: 250 });
  await child.waitFor(/^EPOCH 2$/);
  child.process.kill('SIGKILL');
  await child.exited;

  const id = jobRunId(mlpJob({ epochs: 5 }));
  const dir = path.join(root, 'runs', id);
  const status = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8'));
  assert.equal(status.status, 'running', 'a killed process cannot mark its run');
  const done = status.epochsCompleted as number;
  assert.ok(done >= 2 && done < 5, `killed after ${done} epochs`);
  const lock = JSON.parse(fs.readFileSync(path.join(dir, 'lock'), 'utf8'));
  assert.equal(lock.pid, child.process.pid, 'the dead owner left its lock');

  const lines: string[] = [];
  const counters = newCounters();
  const run = await experiment(mlpJob({ epochs: 5, counters }), { root, log: (l) => lines.push(l), progress: 'lines' });
  assert.equal(run.origin, 'resumed');
  assert.equal(counters.epochs, 5 - done, 'only the remaining epochs are trained');
  assert.ok(lines.some((l) => l.includes(`taking over the stale lock of pid ${child.process.pid}`)), lines.join('\n'));
  assert.ok(lines.some((l) => /died while running; resuming from checkpoint epoch-000\d/.test(l)), lines.join('\n'));

  const reference = await experiment(mlpJob({ epochs: 5 }), { root: path.join(tmp, 'uninterrupted'), log: () => {}, progress: 'none' });
  assert.deepEqual(await checkpointWeights(run), await checkpointWeights(reference));
  assert.deepEqual(run.summary.metrics, reference.summary.metrics);
  assert.deepEqual(run.status.attempts.map((a) => a.status), ['running', 'finished'], 'the killed attempt stays on record');
});

test('two processes asking for one run: one trains, the other waits for the lock and loads the finished run', async () => {
  const root = path.join(tmp, 'concurrent');
  const a = startChild({ root, epochs: 4, delayMs: 300 });
  const b = startChild({ root, epochs: 4, delayMs: 300 });
  assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0]);
  const results = [resultOf(a), resultOf(b)];
  const trainer = results.find((r) => r.origin === 'trained');
  const loader = results.find((r) => r.origin === 'loaded');
  assert.ok(trainer && loader, JSON.stringify(results));
  assert.equal(trainer.counters.epochs, 4);
  assert.equal(loader.counters.inits, 0, 'the second process built nothing');
  assert.equal(loader.counters.epochs, 0);
  assert.equal(trainer.id, loader.id);
  const loaderLines = (loader === results[0] ? a : b).lines;
  assert.ok(loaderLines.some((l) => l.includes(`is being trained by pid ${trainer.pid}`) && l.includes('waiting')), loaderLines.join('\n'));
  const run = loadRun(trainer.id, { root });
  assert.deepEqual(run.status.attempts.map((x) => [x.status, x.pid]), [['finished', trainer.pid]]);
});

test("onBusy 'fail' names the live owner; waiting gives up after waitTimeoutMs", async () => {
  const root = path.join(tmp, 'busy');
  const id = jobRunId(mlpJob());
  const dir = path.join(root, 'runs', id);
  fs.mkdirSync(dir, { recursive: true });
  // The test runner that started this process is alive, on this host.
  const owner = { runId: id, pid: process.ppid, hostname: os.hostname(), startedAt: new Date().toISOString(), token: 'someone-else' };
  fs.writeFileSync(path.join(dir, 'lock'), JSON.stringify(owner));
  const counters = newCounters();
  await assert.rejects(experiment(mlpJob({ counters }), { root, onBusy: 'fail', log: () => {} }), (e: unknown) => {
    assert.ok(e instanceof RunBusyError);
    assert.match(e.message, new RegExp(`^run ${id} is being trained by pid ${process.ppid} on `));
    return true;
  });
  const started = Date.now();
  await assert.rejects(experiment(mlpJob({ counters }), { root, waitTimeoutMs: 300, log: () => {} }), RunBusyError);
  assert.ok(Date.now() - started >= 300);
  assert.equal(counters.inits, 0);
  fs.rmSync(path.join(dir, 'lock'));
  assert.equal((await experiment(mlpJob({ counters }), { root, log: () => {}, progress: 'none' })).origin, 'trained');
});
