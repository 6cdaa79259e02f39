/**
 * One writer per run folder: a lock file created with O_EXCL holding the owner's pid,
 * hostname, start time and a random token.
 *
 * A lock whose owner is gone (same host, pid not alive, or this very pid with a token this
 * process never issued: a previous incarnation of a reused pid) is stale: it is taken over
 * with a warning. The take-over itself is serialised by a second O_EXCL file
 * (`lock.takeover`), so that two processes finding the same stale lock cannot both win.
 * A lock held by a live process makes the caller wait (polling) or fail with RunBusyError.
 * A lock from another host cannot be checked and counts as live; the error says so.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';

import { DamagedRunError, RunBusyError } from './errors';
import { readJsonIfExists } from './files';

export interface LockOwner {
  runId: string;
  pid: number;
  hostname: string;
  startedAt: string;
  token: string;
}

export interface LockHandle {
  file: string;
  owner: LockOwner;
  /** Removes the lock if it is still ours; safe to call twice. */
  release(): void;
}

export interface AcquireOptions {
  /** 'wait' (default): poll until the owner finishes; 'fail': throw RunBusyError at once. */
  onBusy?: 'wait' | 'fail';
  /** Milliseconds between polls while waiting (default 250). */
  pollMs?: number;
  /** Give up waiting after this many milliseconds with RunBusyError (default: never). */
  timeoutMs?: number;
  /** Warnings and waiting notices; default stderr. */
  log?: (line: string) => void;
}

/** Tokens of the locks this process holds (to recognise a reused pid's old locks). */
const heldTokens = new Set<string>();

/** True when a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads a lock file: its owner, 'unreadable' for a damaged one, undefined when absent. */
export function readLock(file: string): LockOwner | 'unreadable' | undefined {
  let owner: Partial<LockOwner> | null | undefined;
  try {
    owner = readJsonIfExists<Partial<LockOwner> | null>(file);
  } catch (error) {
    if (error instanceof DamagedRunError) return 'unreadable';
    throw error;
  }
  if (owner === undefined) return undefined;
  if (!owner || typeof owner.pid !== 'number' || typeof owner.hostname !== 'string' || typeof owner.token !== 'string') return 'unreadable';
  return owner as LockOwner;
}

/** Why a lock's owner is gone, or undefined while it may be alive. */
export function staleReason(owner: LockOwner, hostname = os.hostname()): string | undefined {
  if (owner.hostname !== hostname) return undefined;
  if (owner.pid === process.pid) {
    return heldTokens.has(owner.token) ? undefined : `pid ${owner.pid} is this process, which never took that lock (an earlier process with the same pid)`;
  }
  return isProcessAlive(owner.pid) ? undefined : `pid ${owner.pid} is no longer running`;
}

function ageMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Tries once to create the lock; true when it is ours. */
function tryCreate(file: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    fs.writeSync(fd, JSON.stringify(owner) + '\n');
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/**
 * Removes the lock if it still holds `stale` (compared by token), under the take-over lock.
 * Returns false when another process is taking over at the same moment.
 */
function takeOver(file: string, stale: LockOwner | 'unreadable'): boolean {
  const guard = `${file}.takeover`;
  let fd: number;
  try {
    fd = fs.openSync(guard, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // A take-over guard older than 30 s belongs to a process that died while taking over.
    if (ageMs(guard) > 30_000) fs.rmSync(guard, { force: true });
    return false;
  }
  fs.closeSync(fd);
  try {
    const current = readLock(file);
    const same = current === stale || (current !== undefined && current !== 'unreadable' && stale !== 'unreadable' && current.token === stale.token);
    if (same) fs.rmSync(file, { force: true });
    return true;
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

/**
 * Takes the lock of run `runId` at `file`: at once when free, after taking over a stale one,
 * or after waiting for the live owner (or RunBusyError, per `onBusy`).
 */
export async function acquireLock(file: string, runId: string, options: AcquireOptions = {}): Promise<LockHandle> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const pollMs = options.pollMs ?? 250;
  const owner: LockOwner = {
    runId,
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  const started = Date.now();
  let announcedWait = false;
  for (;;) {
    if (tryCreate(file, owner)) break;
    const current = readLock(file);
    if (current === undefined) continue; // released between our two calls
    if (current === 'unreadable') {
      // A lock is written right after its creation; an unreadable one older than 10 s is a crash.
      if (ageMs(file) > 10_000) {
        log(`[captioning-lab] warning: run ${runId}: removing an unreadable lock file ${file} (older than 10 s)`);
        takeOver(file, current);
        continue;
      }
      if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) {
        throw new Error(`run ${runId}: the lock file ${file} is unreadable (being written, or damaged: it is removed once older than 10 s)`);
      }
    } else {
      const stale = staleReason(current);
      if (stale) {
        log(
          `[captioning-lab] warning: run ${runId}: taking over the stale lock of pid ${current.pid} on ${current.hostname} ` +
            `(started ${current.startedAt}): ${stale}`,
        );
        takeOver(file, current);
        continue;
      }
      const busy = new RunBusyError(runId, current, file);
      const foreign = current.hostname !== owner.hostname ? ` (another host: if it is gone, delete ${file})` : '';
      if (options.onBusy === 'fail') throw busy;
      if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) {
        throw new RunBusyError(runId, current, file + foreign);
      }
      if (!announcedWait) {
        log(`[captioning-lab] run ${runId} is being trained by pid ${current.pid} on ${current.hostname}${foreign}; waiting for it to finish`);
        announcedWait = true;
      }
    }
    await sleep(pollMs);
  }
  heldTokens.add(owner.token);
  let released = false;
  return {
    file,
    owner,
    release() {
      if (released) return;
      released = true;
      heldTokens.delete(owner.token);
      const current = readLock(file);
      if (current !== undefined && current !== 'unreadable' && current.token === owner.token) fs.rmSync(file, { force: true });
    },
  };
}
