/**
 * The run store as a collection: list the runs under a results root (each with its summary,
 * or the reason it cannot be read), load one by id or unique id prefix, remove one.
 *
 * Listing never throws for one bad folder: a damaged run is listed with its problem, so that
 * `captioning runs list` and the report show it instead of hiding it or failing on it.
 *
 * Listing reads config.json, status.json and summary.json (and checks that the files a
 * summary lists exist), never metrics.jsonl, checkpoints or artifacts: at the paper profile a
 * history is megabytes, and `listRuns`, `runTable`, `compareRuns` and `captioning runs list`
 * need none of it. `loadRun` (and `experiment` loading a finished run) checks a run whole.
 */
import * as fs from 'fs';
import * as path from 'path';

import { RUN_ID_PATTERN } from './canonical';
import { DamagedRunError, RunBusyError } from './errors';
import { readJsonIfExists } from './files';
import { isProcessAlive, readLock } from './lock';
import { resultsRoot, RUN_FILES, runsFolder } from './paths';
import { checkConfig, checkStatus, checkSummary } from './record-checks';
import type { RunStatus, StatusRecord, SummaryRecord } from './records';
import { Run } from './run';

/** One entry of a listing. */
export interface RunEntry {
  id: string;
  dir: string;
  /** From summary.json when present, else from status.json. */
  status: RunStatus | 'unknown';
  summary?: SummaryRecord;
  statusRecord?: StatusRecord;
  /** The names the run answers to (config.json: first name, then aliases). */
  names?: string[];
  /** Why the folder cannot be used (damaged files), when it cannot. */
  problem?: string;
  /** A live process holds the lock (training now). */
  lockedBy?: { pid: number; hostname: string };
}

/** Which runs to list. */
export interface RunFilter {
  /** Results root (default: $CAPTIONING_RESULTS, else <project>/results). */
  root?: string;
  /** Keep runs with these statuses (default: all). */
  status?: RunStatus | RunStatus[];
  /** Keep runs whose id starts with, or whose name or an alias equals, one of these. */
  ids?: string[];
  /** Keep runs of this job name or alias (e.g. 'baseline'). */
  name?: string;
  /** Keep damaged folders in the listing (default true for list, false for comparisons). */
  includeDamaged?: boolean;
}

/** Reads one run folder into a listing entry. */
export function readRunEntry(dir: string): RunEntry {
  const id = path.basename(dir);
  const entry: RunEntry = { id, dir, status: 'unknown' };
  const lock = readLock(path.join(dir, RUN_FILES.lock));
  if (lock && lock !== 'unreadable' && isProcessAlive(lock.pid)) entry.lockedBy = { pid: lock.pid, hostname: lock.hostname };
  try {
    const configFile = path.join(dir, RUN_FILES.config);
    const rawConfig = readJsonIfExists(configFile);
    if (rawConfig !== undefined) {
      const config = checkConfig(configFile, rawConfig);
      entry.names = [...new Set([config.name, ...(config.aliases ?? [])])];
    }
    const statusFile = path.join(dir, RUN_FILES.status);
    const rawStatus = readJsonIfExists(statusFile);
    if (rawStatus !== undefined) {
      entry.statusRecord = checkStatus(statusFile, rawStatus);
      entry.status = entry.statusRecord.status;
    }
    const summaryFile = path.join(dir, RUN_FILES.summary);
    const rawSummary = readJsonIfExists(summaryFile);
    if (rawSummary !== undefined) {
      entry.summary = checkSummary(summaryFile, rawSummary);
      if (entry.statusRecord?.status !== 'running') entry.status = entry.summary.status;
    }
    if (rawStatus === undefined && rawSummary === undefined) entry.problem = `no status.json or summary.json in ${dir}`;
    else if (entry.status === 'finished') {
      // Summaries only: metrics.jsonl, checkpoints and artifacts are checked when a run is loaded (loadRun, Run.validate).
      if (!entry.summary) throw new DamagedRunError(summaryFile, 'the run summary is missing');
      new Run(id, dir).checkListedFiles(entry.summary);
    }
  } catch (error) {
    entry.problem = error instanceof Error ? error.message : String(error);
  }
  return entry;
}

function matches(entry: RunEntry, filter: RunFilter): boolean {
  if (filter.includeDamaged === false && entry.problem) return false;
  if (filter.status !== undefined) {
    const wanted = Array.isArray(filter.status) ? filter.status : [filter.status];
    if (!(wanted as string[]).includes(entry.status)) return false;
  }
  const names = entry.names ?? (entry.summary ? [entry.summary.name] : []);
  if (filter.name !== undefined && !names.includes(filter.name)) return false;
  if (filter.ids && !filter.ids.some((p) => entry.id.startsWith(p) || names.includes(p))) return false;
  return true;
}

/** The runs under the results root, sorted by id. */
export function listRuns(filter: RunFilter = {}): RunEntry[] {
  const folder = runsFolder(filter.root);
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((n) => RUN_ID_PATTERN.test(n) && fs.statSync(path.join(folder, n)).isDirectory())
    .sort()
    .map((n) => readRunEntry(path.join(folder, n)))
    .filter((e) => matches(e, filter));
}

/** Resolves an id or a unique id prefix to a run folder's id. */
export function resolveRunId(idOrPrefix: string, root?: string): string {
  const folder = runsFolder(root);
  let names: string[] = [];
  try {
    names = fs.readdirSync(folder).filter((n) => RUN_ID_PATTERN.test(n));
  } catch {
    // no runs folder: no match below
  }
  if (names.includes(idOrPrefix)) return idOrPrefix;
  const found = names.filter((n) => n.startsWith(idOrPrefix) || n.endsWith(`-${idOrPrefix}`));
  if (found.length === 1) return found[0];
  if (found.length === 0) throw new Error(`no run ${JSON.stringify(idOrPrefix)} in ${folder}${names.length ? ` (runs: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''})` : ' (no runs yet)'}`);
  throw new Error(`${JSON.stringify(idOrPrefix)} matches ${found.length} runs in ${folder}: ${found.join(', ')}; give more of the id`);
}

/** Opens a run by id or unique prefix, checking every record (DamagedRunError on damage). */
export function loadRun(idOrPrefix: string, options: { root?: string; validate?: boolean } = {}): Run {
  const id = resolveRunId(idOrPrefix, options.root);
  const run = new Run(id, path.join(runsFolder(options.root), id));
  if (!fs.existsSync(path.join(run.dir, RUN_FILES.status))) throw new DamagedRunError(path.join(run.dir, RUN_FILES.status), 'missing: not a run folder');
  // A finished run is checked whole; an unfinished one has no summary until its attempt ends.
  if ((options.validate ?? true) && run.status.status === 'finished') run.validate();
  return run;
}

/** Deletes a run folder; refuses while a live process trains it. Returns the folder removed. */
export async function removeRun(idOrPrefix: string, options: { root?: string } = {}): Promise<string> {
  const id = resolveRunId(idOrPrefix, options.root);
  const dir = path.join(runsFolder(options.root), id);
  const lockFile = path.join(dir, RUN_FILES.lock);
  const lock = readLock(lockFile);
  if (lock && lock !== 'unreadable' && isProcessAlive(lock.pid) && lock.pid !== process.pid) {
    throw new RunBusyError(id, lock, lockFile);
  }
  // Rename first, so that a half-deleted folder is never mistaken for a run.
  const trash = path.join(resultsRoot(options.root), 'runs', `.deleting-${id}-${process.pid}`);
  await fs.promises.rename(dir, trash);
  await fs.promises.rm(trash, { recursive: true, force: true });
  return dir;
}
