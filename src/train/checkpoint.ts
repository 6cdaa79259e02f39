/**
 * Training checkpoints: weights + a JSON sidecar, never a pickled object graph.
 *
 *   await saveCheckpoint('results/runs/x/checkpoint', trainer.snapshot(), { config, fingerprints });
 *   const { snapshot, meta } = await loadCheckpoint('results/runs/x/checkpoint');
 *   trainer.restore(snapshot);   // a trainer built from the same config
 *
 * A snapshot is two parts, so that any store can hold it (the run store's checkpoint writer
 * takes named tensors + JSON state):
 * - `snapshotParts(snapshot)` -> { state (JSON: progress counters, lr, best metric,
 *   epochs without improvement, history, seed, Adam's step and betas), tensors (named
 *   float32 arrays: `weights/<name>`, `adam.m/<name>`, `adam.v/<name>`, `best/<name>`) };
 * - `snapshotFromParts(state, tensors)` rebuilds it.
 * Random state needs no saving: batch order and dropout masks derive from (seed, epoch, step).
 *
 * On disk: `state-<sha>.bin` (the tensors, float32 little-endian, back to back) and
 * `checkpoint.json` (the JSON state, the tensor table, the sha of the .bin, and `meta`:
 * the resolved config, data fingerprints, anything else the caller adds). Written .bin
 * first, then checkpoint.json atomically: the sidecar names its .bin, so a crash at any
 * point leaves either the old or the new checkpoint readable; older .bin files are removed
 * after the switch.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { writeFileAtomic } from '../common/atomic-write';
import type { TrainingProgress, TrainingSnapshot } from './trainer';

export type HostTensor = { shape: number[]; data: Float32Array };

/** The JSON half of a snapshot. */
export interface SnapshotState {
  progress: TrainingProgress;
  seed: number;
  adam: { step: number; beta1: number; beta2: number; epsilon: number };
  hasBest: boolean;
}

/** What the caller stores with a checkpoint (the resolved config at least). */
export interface CheckpointMeta {
  config: unknown;
  fingerprints?: Record<string, string>;
  extra?: Record<string, unknown>;
}

interface CheckpointFile {
  format: 'captioning-lab checkpoint';
  version: 1;
  state: SnapshotState;
  meta: CheckpointMeta;
  weights: { file: string; sha256: string; bytes: number };
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
}

const SIDECAR = 'checkpoint.json';

/** Splits a snapshot into JSON state and named tensors. */
export function snapshotParts(snapshot: TrainingSnapshot): { state: SnapshotState; tensors: Map<string, HostTensor> } {
  const tensors = new Map<string, HostTensor>();
  for (const [k, t] of snapshot.weights) tensors.set(`weights/${k}`, t);
  for (const [k, m] of snapshot.adam.m) tensors.set(`adam.m/${k}`, { shape: snapshot.weights.get(k)?.shape ?? [m.length], data: m });
  for (const [k, v] of snapshot.adam.v) tensors.set(`adam.v/${k}`, { shape: snapshot.weights.get(k)?.shape ?? [v.length], data: v });
  if (snapshot.bestWeights) for (const [k, t] of snapshot.bestWeights) tensors.set(`best/${k}`, t);
  const { step, beta1, beta2, epsilon } = snapshot.adam;
  return { state: { progress: snapshot.progress, seed: snapshot.seed, adam: { step, beta1, beta2, epsilon }, hasBest: snapshot.bestWeights !== null }, tensors };
}

/** Rebuilds a snapshot from its two parts. */
export function snapshotFromParts(state: SnapshotState, tensors: ReadonlyMap<string, HostTensor>): TrainingSnapshot {
  const group = (prefix: string) => {
    const out = new Map<string, HostTensor>();
    for (const [k, t] of tensors) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), t);
    return out;
  };
  const weights = group('weights/');
  if (weights.size === 0) throw new Error('checkpoint: it holds no weights/ tensors');
  const data = (m: Map<string, HostTensor>) => new Map([...m].map(([k, t]) => [k, t.data]));
  return {
    progress: state.progress,
    seed: state.seed,
    weights,
    bestWeights: state.hasBest ? group('best/') : null,
    adam: { ...state.adam, m: data(group('adam.m/')), v: data(group('adam.v/')) },
  };
}

/** Writes a checkpoint into `dir` (created), replacing the one there atomically. */
export async function saveCheckpoint(dir: string, snapshot: TrainingSnapshot, meta: CheckpointMeta): Promise<void> {
  const { state, tensors } = snapshotParts(snapshot);
  const table: CheckpointFile['tensors'] = [];
  let length = 0;
  for (const [name, t] of tensors) {
    table.push({ name, shape: t.shape, offset: length, length: t.data.length });
    length += t.data.length;
  }
  const all = new Float32Array(length);
  for (const entry of table) all.set(tensors.get(entry.name)!.data, entry.offset);
  const bytes = new Uint8Array(all.buffer);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('checkpoint: big-endian hosts are not supported');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const file = `state-${sha256.slice(0, 16)}.bin`;
  await writeFileAtomic(path.join(dir, file), bytes);
  const sidecar: CheckpointFile = { format: 'captioning-lab checkpoint', version: 1, state, meta, weights: { file, sha256, bytes: bytes.length }, tensors: table };
  await writeFileAtomic(path.join(dir, SIDECAR), JSON.stringify(sidecar) + '\n');
  for (const old of await fs.promises.readdir(dir)) {
    if (/^state-[0-9a-f]+\.bin$/.test(old) && old !== file) await fs.promises.rm(path.join(dir, old), { force: true });
  }
}

/** Reads a checkpoint written by saveCheckpoint, checking its weights against the recorded hash. */
export async function loadCheckpoint(dir: string): Promise<{ snapshot: TrainingSnapshot; meta: CheckpointMeta }> {
  const sidecarPath = path.join(dir, SIDECAR);
  let sidecar: CheckpointFile;
  try {
    sidecar = JSON.parse(await fs.promises.readFile(sidecarPath, 'utf8')) as CheckpointFile;
  } catch (error) {
    throw new Error(`checkpoint ${dir}: cannot read ${SIDECAR}: ${(error as Error).message}`);
  }
  if (sidecar.format !== 'captioning-lab checkpoint' || sidecar.version !== 1) throw new Error(`checkpoint ${dir}: ${SIDECAR} is not a version 1 captioning-lab checkpoint`);
  const binPath = path.join(dir, sidecar.weights.file);
  const bytes = await fs.promises.readFile(binPath).catch(() => {
    throw new Error(`checkpoint ${dir}: its weights file ${sidecar.weights.file} is missing`);
  });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length !== sidecar.weights.bytes || sha256 !== sidecar.weights.sha256) {
    throw new Error(`checkpoint ${dir}: ${sidecar.weights.file} does not match ${SIDECAR} (${bytes.length} bytes, sha256 ${sha256.slice(0, 12)}…; expected ${sidecar.weights.bytes}, ${sidecar.weights.sha256.slice(0, 12)}…)`);
  }
  const all = new Float32Array(new Uint8Array(bytes).buffer);
  const tensors = new Map<string, HostTensor>(sidecar.tensors.map((t) => [t.name, { shape: t.shape, data: all.slice(t.offset, t.offset + t.length) }]));
  return { snapshot: snapshotFromParts(sidecar.state, tensors), meta: sidecar.meta };
}
