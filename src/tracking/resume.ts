/**
 * Where an attempt at a run starts: from scratch (a new folder, `force`, or nothing to resume
 * from), or from the last checkpoint of an interrupted, dead or failed attempt, with the
 * metrics.jsonl lines after that checkpoint dropped, as those epochs are trained again.
 *
 *   const start = await findStart(dir, identity, force, log, id);   // { checkpoint?, previous?, reason }
 *   const kept = await trimMetrics(metricsFile, start.checkpoint.info.epoch, log);
 */
import * as fs from 'fs';
import * as path from 'path';

import type { RunIdentity } from './canonical';
import { type CheckpointInfo, listCheckpoints } from './checkpoints';
import { readJsonIfExists, readJsonLines } from './files';
import { RUN_FILES } from './paths';
import { checkMetricRecord, checkStatus } from './record-checks';
import type { StatusRecord } from './records';
import { checkIdentity } from './run-lookup';

export async function clearFolder(dir: string): Promise<void> {
  for (const name of await fs.promises.readdir(dir)) {
    if (name === RUN_FILES.lock || name.startsWith(`${RUN_FILES.lock}.`)) continue;
    await fs.promises.rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/** Where an attempt starts: from scratch, or from a checkpoint of an earlier attempt. */
export interface StartPoint {
  checkpoint?: { dir: string; info: CheckpointInfo };
  previous?: StatusRecord;
  reason: string;
}

export async function findStart(dir: string, identity: RunIdentity, force: boolean, log: (line: string) => void, id: string): Promise<StartPoint> {
  const statusFile = path.join(dir, RUN_FILES.status);
  if (force) {
    await clearFolder(dir);
    return { reason: 'fresh start (force)' };
  }
  const raw = readJsonIfExists(statusFile);
  if (raw === undefined) {
    const leftovers = (await fs.promises.readdir(dir)).filter((n) => n !== RUN_FILES.lock && !n.startsWith(`${RUN_FILES.lock}.`));
    if (leftovers.length > 0) log(`[captioning-lab] run ${id}: ${dir} has files but no status.json; starting afresh`);
    await clearFolder(dir);
    return { reason: 'fresh start' };
  }
  const previous = checkStatus(statusFile, raw);
  checkIdentity(dir, identity);
  const checkpoints = listCheckpoints(path.join(dir, RUN_FILES.checkpoints));
  const last = checkpoints[checkpoints.length - 1];
  const what =
    previous.status === 'failed'
      ? `the previous attempt failed${previous.error?.epoch !== undefined ? ` in epoch ${previous.error.epoch + 1}` : ''}: ${previous.error?.message ?? 'unknown error'}`
      : previous.status === 'interrupted'
        ? 'the previous attempt was interrupted'
        : `the previous attempt (pid ${previous.attempts[previous.attempts.length - 1]?.pid ?? '?'}) died while running`;
  if (last && last.info.epoch > 0) {
    log(`[captioning-lab] run ${id}: ${what}; resuming from checkpoint ${last.info.name} (${last.info.epoch}/${identity.epochs} epochs done)`);
    return { checkpoint: last, previous, reason: `resumed from ${last.info.name}: ${what}` };
  }
  log(`[captioning-lab] run ${id}: ${what}; no checkpoint, training from scratch`);
  await clearFolder(dir);
  return { previous, reason: `restarted from scratch: ${what}` };
}

/**
 * Keeps the metrics.jsonl lines of the epochs before `epochs`, dropping a killed writer's torn
 * last line; returns the kept epoch records' values by epoch index.
 */
export async function trimMetrics(file: string, epochs: number, log: (line: string) => void): Promise<Map<number, Record<string, number | null>>> {
  const { records, truncatedTail } = readJsonLines<Record<string, unknown>>(file, { allowTruncatedTail: true });
  if (truncatedTail) log(`[captioning-lab] warning: ${file}: dropped line ${truncatedTail.line} (${truncatedTail.reason}), written when the previous attempt stopped`);
  const kept = records.map((r, i) => checkMetricRecord(file, r, i + 1)).filter((r) => r.epoch < epochs);
  const text = kept.map((r) => JSON.stringify(r) + '\n').join('');
  await fs.promises.writeFile(`${file}.trim.tmp`, text);
  await fs.promises.rename(`${file}.trim.tmp`, file);
  const byEpoch = new Map<number, Record<string, number | null>>();
  for (const { kind, step: _step, epoch, time: _time, ...values } of kept) {
    if (kind === 'epoch') byEpoch.set(epoch, values as Record<string, number | null>);
  }
  return byEpoch;
}
