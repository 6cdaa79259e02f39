/**
 * A trainer's state as host arrays (`readWeights`, `writeWeights`: what snapshots, data-parallel
 * workers and tests copy) and its checkpoint in the run store's one checkpoint format (src/tracking): the
 * weights and Adam's moments as named host arrays, the counters as the checkpoint's JSON
 * state, each checked on the way back in, so that a damaged or foreign checkpoint fails
 * with the field at fault instead of training on from a wrong state.
 *
 *   const { state, arrays } = trainerCheckpoint(trainer.snapshot());
 *   await writer.saveArrays('trainer', arrays); writer.setState(state);
 *   trainer.restore(trainerSnapshot(reader.state, await reader.loadArrays('trainer'), 'checkpoint epoch-0003'));
 *
 * Arrays: `weights/<name>`, `adam.m/<name>`, `adam.v/<name>` (float32, the weight's shape).
 * Random state needs no saving: batch order and dropout masks derive from (seed, epoch, step).
 */
import * as tf from '@tensorflow/tfjs';

import type { HostArray, JsonValue } from '../tracking';
import type { TrainingProgress, TrainingSnapshot } from './trainer';

/** Host copies of weights by name. */
export function readWeights(variables: ReadonlyMap<string, tf.Variable>): Map<string, { shape: number[]; data: Float32Array }> {
  return new Map([...variables].map(([k, v]) => [k, { shape: [...v.shape], data: Float32Array.from(v.dataSync()) }]));
}

/** Writes host weights into variables (names and shapes must match). */
export function writeWeights(variables: ReadonlyMap<string, tf.Variable>, weights: ReadonlyMap<string, { shape: number[]; data: Float32Array }>): void {
  for (const [name, v] of variables) {
    const w = weights.get(name);
    if (!w) throw new Error(`weights: none saved for ${JSON.stringify(name)}`);
    if (w.shape.join(',') !== v.shape.join(',')) throw new Error(`weights: ${JSON.stringify(name)} is [${w.shape}] saved, [${v.shape}] in the model`);
    tf.tidy(() => v.assign(tf.tensor(w.data, v.shape, 'float32')));
  }
  for (const name of weights.keys()) if (!variables.has(name)) throw new Error(`weights: ${JSON.stringify(name)} is saved but the model has no such weight`);
}

/** The JSON half of a trainer checkpoint. */
export type TrainerCheckpointState = {
  progress: TrainingProgress;
  seed: number;
  adam: { step: number; beta1: number; beta2: number; epsilon: number };
};

/** Splits a snapshot into the checkpoint's JSON state and named arrays. */
export function trainerCheckpoint(snapshot: TrainingSnapshot): { state: TrainerCheckpointState; arrays: Map<string, HostArray> } {
  const arrays = new Map<string, HostArray>();
  for (const [name, w] of snapshot.weights) arrays.set(`weights/${name}`, w);
  const shapeOf = (name: string, length: number) => snapshot.weights.get(name)?.shape ?? [length];
  for (const [name, m] of snapshot.adam.m) arrays.set(`adam.m/${name}`, { shape: shapeOf(name, m.length), data: m });
  for (const [name, v] of snapshot.adam.v) arrays.set(`adam.v/${name}`, { shape: shapeOf(name, v.length), data: v });
  const { step, beta1, beta2, epsilon } = snapshot.adam;
  return { state: { progress: { ...snapshot.progress }, seed: snapshot.seed, adam: { step, beta1, beta2, epsilon } }, arrays };
}

type Check = 'integer' | 'positive' | 'number' | 'boolean';

function field(where: string, record: Record<string, JsonValue> | undefined, key: string, check: Check, at: string): number | boolean {
  const value = record?.[key];
  const ok =
    check === 'boolean'
      ? typeof value === 'boolean'
      : typeof value === 'number' && Number.isFinite(value) && (check !== 'integer' || (Number.isInteger(value) && value >= 0)) && (check !== 'positive' || value > 0);
  if (!ok) {
    const expected = { integer: 'a whole number >= 0', positive: 'a number > 0', number: 'a finite number', boolean: 'true or false' }[check];
    throw new Error(`${where}: trainer state field ${JSON.stringify(at + key)} should be ${expected}, got ${JSON.stringify(value) ?? 'nothing'}`);
  }
  return value as number | boolean;
}

function objectAt(where: string, value: JsonValue | undefined, at: string): Record<string, JsonValue> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where}: trainer state field ${JSON.stringify(at || '(the state)')} should be an object, got ${JSON.stringify(value) ?? 'nothing'}`);
  }
  return value;
}

/** Checks a checkpoint's JSON state; throws naming the file (`where`) and the field at fault. */
export function checkTrainerState(value: JsonValue | undefined, where: string): TrainerCheckpointState {
  const state = objectAt(where, value, '');
  const p = objectAt(where, state.progress, 'progress');
  const a = objectAt(where, state.adam, 'adam');
  const num = (record: Record<string, JsonValue>, key: string, check: Exclude<Check, 'boolean'>, at: string) => field(where, record, key, check, at) as number;
  return {
    progress: {
      epoch: num(p, 'epoch', 'integer', 'progress.'),
      step: num(p, 'step', 'integer', 'progress.'),
      learningRate: num(p, 'learningRate', 'positive', 'progress.'),
      encoderLearningRate: num(p, 'encoderLearningRate', 'positive', 'progress.'),
      epochsWithoutImprovement: num(p, 'epochsWithoutImprovement', 'integer', 'progress.'),
      stopped: field(where, p, 'stopped', 'boolean', 'progress.') as boolean,
    },
    seed: num(state, 'seed', 'integer', ''),
    adam: { step: num(a, 'step', 'integer', 'adam.'), beta1: num(a, 'beta1', 'number', 'adam.'), beta2: num(a, 'beta2', 'number', 'adam.'), epsilon: num(a, 'epsilon', 'positive', 'adam.') },
  };
}

/** Rebuilds a snapshot from a checkpoint's JSON state and arrays, checking both. */
export function trainerSnapshot(value: JsonValue | undefined, arrays: ReadonlyMap<string, HostArray>, where: string): TrainingSnapshot {
  const state = checkTrainerState(value, where);
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  const m = new Map<string, Float32Array>();
  const v = new Map<string, Float32Array>();
  for (const [key, array] of arrays) {
    if (!(array.data instanceof Float32Array)) throw new Error(`${where}: trainer array ${JSON.stringify(key)} should be float32, got int32`);
    const slash = key.indexOf('/');
    const [group, name] = [key.slice(0, slash), key.slice(slash + 1)];
    if (group === 'weights') weights.set(name, { shape: array.shape, data: array.data });
    else if (group === 'adam.m') m.set(name, array.data);
    else if (group === 'adam.v') v.set(name, array.data);
    else if (group === 'best') continue; // checkpoints written before the run store kept the best epoch alone also held its weights here
    else throw new Error(`${where}: trainer array ${JSON.stringify(key)} is none of weights/, adam.m/, adam.v/`);
  }
  if (weights.size === 0) throw new Error(`${where}: the checkpoint holds no weights/ arrays`);
  return { progress: state.progress, seed: state.seed, weights, adam: { ...state.adam, m, v } };
}
