// The run lock: O_EXCL creation, a live owner blocks, a dead owner's lock is taken over with
// a warning, an unreadable old lock is removed, release removes only our own lock.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { acquireLock, isProcessAlive, readLock, RunBusyError } from '../../src/tracking';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tracking-lock-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(child.stdout);
  assert.ok(!isProcessAlive(pid));
  return pid;
}

test('a held lock blocks a second taker; release frees it', async () => {
  const file = path.join(tmp, 'a.lock');
  const lock = await acquireLock(file, 'run-a', { log: () => {} });
  const owner = readLock(file);
  assert.ok(owner && owner !== 'unreadable');
  assert.equal(owner.pid, process.pid);
  assert.equal(owner.hostname, os.hostname());
  assert.ok(!Number.isNaN(Date.parse(owner.startedAt)));
  await assert.rejects(acquireLock(file, 'run-a', { onBusy: 'fail', log: () => {} }), (e: unknown) => e instanceof RunBusyError && e.message.includes(`pid ${process.pid}`));
  lock.release();
  assert.equal(readLock(file), undefined);
  const again = await acquireLock(file, 'run-a', { onBusy: 'fail', log: () => {} });
  again.release();
});

test('a waiting taker gets the lock once the owner releases it', async () => {
  const file = path.join(tmp, 'b.lock');
  const first = await acquireLock(file, 'run-b', { log: () => {} });
  const logs: string[] = [];
  const second = acquireLock(file, 'run-b', { pollMs: 20, log: (l) => logs.push(l) });
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(logs.some((l) => l.includes('waiting')));
  first.release();
  const lock = await second;
  assert.equal((readLock(file) as { token: string }).token, lock.owner.token);
  lock.release();
});

test("a dead owner's lock is taken over with a warning naming it", async () => {
  const file = path.join(tmp, 'c.lock');
  const pid = deadPid();
  fs.writeFileSync(file, JSON.stringify({ runId: 'run-c', pid, hostname: os.hostname(), startedAt: '2020-01-01T00:00:00.000Z', token: 'old' }));
  const logs: string[] = [];
  const lock = await acquireLock(file, 'run-c', { onBusy: 'fail', log: (l) => logs.push(l) });
  assert.equal(logs.length, 1);
  assert.match(logs[0], new RegExp(`warning: run run-c: taking over the stale lock of pid ${pid} .*no longer running`));
  assert.equal((readLock(file) as { pid: number }).pid, process.pid);
  lock.release();
});

test('an unreadable lock is removed only when old; release leaves a lock that is not ours', async () => {
  const file = path.join(tmp, 'd.lock');
  fs.writeFileSync(file, '{"pid": 12');
  await assert.rejects(acquireLock(file, 'run-d', { timeoutMs: 50, pollMs: 10, log: () => {} }), /lock file .* is unreadable/);
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(file, old, old);
  const logs: string[] = [];
  const lock = await acquireLock(file, 'run-d', { log: (l) => logs.push(l) });
  assert.match(logs[0], /removing an unreadable lock file/);
  fs.writeFileSync(file, JSON.stringify({ ...lock.owner, token: 'someone-else' }));
  lock.release();
  assert.ok(fs.existsSync(file), 'a lock with another token is left alone');
});
