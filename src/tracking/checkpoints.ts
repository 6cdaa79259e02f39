/**
 * Checkpoints of a run: `checkpoints/epoch-0003/` holds the weights a job chose to save and
 * a JSON sidecar `checkpoint.json` (epochs and steps done, the epoch's metrics, the best
 * metric so far, the run identity with its config, optimiser facts, the job's own JSON
 * state, and every file with its size). Never a pickled object graph (STYLE.md, habit 4).
 * What a job can save, and how it is read back: checkpoint-io.ts.
 *
 * A checkpoint is written into a temporary folder, its sidecar last, then renamed into place:
 * a folder named `epoch-*` always has a complete sidecar. Files the sidecar lists but that
 * are missing or of another size make the checkpoint damaged (DamagedRunError naming them).
 */
import * as fs from 'fs';
import * as path from 'path';

import type { JsonValue, RunIdentity } from './canonical';
import { CheckpointWriter, type OptimizerRecord } from './checkpoint-io';
import { DamagedRunError } from './errors';
import { readJsonIfExists, writeJson } from './files';
import type { StopRecord } from './records';

export const CHECKPOINT_SIDECAR = 'checkpoint.json';

/** checkpoint.json. */
export interface CheckpointInfo {
  schema: 'captioning-lab/checkpoint@1';
  /** Folder name, e.g. 'epoch-0003'. */
  name: string;
  runId: string;
  /** Epochs completed when it was written (its folder's number). */
  epoch: number;
  /** Optimiser steps completed. */
  step: number;
  writtenAt: string;
  /** The run's identity, config included. */
  identity: RunIdentity;
  /** The metrics of the epoch it closes. */
  metrics: Record<string, number | null>;
  /** The best epoch so far (its index from 0; its checkpoint is epoch-<index + 1>). */
  best?: { metric: string; mode: 'min' | 'max'; value: number; epoch: number };
  /** Set on the last checkpoint of a run the job stopped early: a resume trains no further epoch. */
  stop?: StopRecord;
  optimizers: Record<string, OptimizerRecord>;
  /** The job's own JSON state (schedules, early-stopping counters, …). */
  state?: JsonValue;
  files: { path: string; bytes: number }[];
}

/** `epoch-0003`. */
export function checkpointName(epochsCompleted: number): string {
  return `epoch-${String(epochsCompleted).padStart(4, '0')}`;
}

/** Reads and checks a checkpoint's sidecar and files; DamagedRunError names what is wrong. */
export function readCheckpoint(dir: string): CheckpointInfo {
  const sidecar = path.join(dir, CHECKPOINT_SIDECAR);
  const info = readJsonIfExists<CheckpointInfo>(sidecar);
  if (!info) throw new DamagedRunError(sidecar, 'missing');
  if (!Number.isInteger(info.epoch) || !Number.isInteger(info.step) || !Array.isArray(info.files)) {
    throw new DamagedRunError(sidecar, 'should hold integer epoch and step and a files list');
  }
  for (const f of info.files) {
    const file = path.join(dir, f.path);
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      throw new DamagedRunError(file, `referenced by ${sidecar} but missing`);
    }
    if (size !== f.bytes) throw new DamagedRunError(file, `has ${size} bytes, ${sidecar} says ${f.bytes}`);
  }
  return info;
}

/** The complete checkpoints of a run folder, oldest first (unfinished temporary folders are skipped). */
export function listCheckpoints(checkpointsDir: string): { dir: string; info: CheckpointInfo }[] {
  let names: string[];
  try {
    names = fs.readdirSync(checkpointsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((n) => /^epoch-\d+$/.test(n))
    .sort()
    .map((n) => {
      const dir = path.join(checkpointsDir, n);
      return { dir, info: readCheckpoint(dir) };
    });
}

/** Writes a checkpoint: `fill` saves the job's tensors; the sidecar is written last, then the folder is renamed into place. */
export async function writeCheckpoint(
  checkpointsDir: string,
  info: Omit<CheckpointInfo, 'schema' | 'name' | 'files' | 'optimizers' | 'writtenAt' | 'state'>,
  fill: (writer: CheckpointWriter) => Promise<void>,
): Promise<CheckpointInfo> {
  const name = checkpointName(info.epoch);
  const temp = path.join(checkpointsDir, `.tmp-${name}-${process.pid}`);
  await fs.promises.rm(temp, { recursive: true, force: true });
  await fs.promises.mkdir(temp, { recursive: true });
  try {
    const writer = new CheckpointWriter(temp);
    await fill(writer);
    const full: CheckpointInfo = {
      schema: 'captioning-lab/checkpoint@1',
      name,
      ...info,
      writtenAt: new Date().toISOString(),
      optimizers: writer.optimizers,
      ...(writer.state !== undefined ? { state: writer.state } : {}),
      files: writer.files,
    };
    await writeJson(path.join(temp, CHECKPOINT_SIDECAR), full);
    const target = path.join(checkpointsDir, name);
    await fs.promises.rm(target, { recursive: true, force: true });
    await fs.promises.rename(temp, target);
    return full;
  } catch (error) {
    await fs.promises.rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Keeps the last `keepLast` checkpoints and the one named `keep` (the best); removes the
 * rest and any leftover temporary folders of dead writers.
 */
export async function pruneCheckpoints(checkpointsDir: string, keepLast: number, keep?: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.promises.readdir(checkpointsDir);
  } catch {
    return;
  }
  const complete = names.filter((n) => /^epoch-\d+$/.test(n)).sort();
  const kept = new Set(complete.slice(Math.max(0, complete.length - Math.max(1, keepLast))));
  if (keep) kept.add(keep);
  for (const n of complete) if (!kept.has(n)) await fs.promises.rm(path.join(checkpointsDir, n), { recursive: true, force: true });
  for (const n of names) {
    const m = /^\.tmp-epoch-\d+-(\d+)$/.exec(n);
    if (m && Number(m[1]) !== process.pid) await fs.promises.rm(path.join(checkpointsDir, n), { recursive: true, force: true });
  }
}
