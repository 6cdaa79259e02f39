/**
 * What a checkpoint of a BERT pretraining run holds, in the run store's one checkpoint format
 * (src/tracking: `checkpoints/epoch-NNNN/`, written and read by CheckpointWriter and
 * CheckpointReader):
 *
 *   weights.json/.bin, adam-m.json/.bin, adam-v.json/.bin   named tensors (model.ts's names)
 *   checkpoint.json "state"                                 PretrainCheckpointState:
 *     { step, adamStep, history: [{ epoch, loss, accuracy, learningRate, steps, seconds, val_loss?, val_accuracy? }] }
 *
 * The JSON state is checked when it is read: a field of the wrong type or out of step with the
 * rest is an error naming it ("bert pretraining checkpoint: field adamStep should be a
 * non-negative integer, got -1"), never a silently wrong resume. JSON has no NaN: a
 * non-finite metric (a diverged epoch) is stored as null and read back as NaN.
 */
import * as tf from '@tensorflow/tfjs';

import type { CheckpointReader, CheckpointWriter } from '../../tracking';
import type { JsonObject, JsonValue } from '../../tracking/canonical';
import type { BertPretrainState, EpochMetrics } from './pretrain-mlm';

/** The job's JSON state in a pretraining checkpoint's sidecar. */
export interface PretrainCheckpointState {
  /** Optimiser steps done (drives the learning-rate schedule). */
  step: number;
  /** Adam's own step count (its bias corrections). */
  adamStep: number;
  /** One entry per finished epoch, in order. */
  history: EpochMetrics[];
}

const WHERE = 'bert pretraining checkpoint';

/** The sidecar form of a state (JSON; a non-finite number is written as null). */
export function pretrainCheckpointJson(state: PretrainCheckpointState): JsonObject {
  return { step: state.step, adamStep: state.adamStep, history: state.history.map(epochJson) };
}

function epochJson(m: EpochMetrics): JsonObject {
  return {
    epoch: m.epoch,
    loss: m.loss,
    accuracy: m.accuracy,
    learningRate: m.learningRate,
    steps: m.steps,
    seconds: m.seconds,
    ...(m.val_loss !== undefined ? { val_loss: m.val_loss } : {}),
    ...(m.val_accuracy !== undefined ? { val_accuracy: m.val_accuracy } : {}),
  };
}

function shown(value: JsonValue | undefined): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function wrong(field: string, expected: string, got: JsonValue | undefined): never {
  throw new Error(`${WHERE}: field ${field} should be ${expected}, got ${shown(got)}`);
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: JsonValue | undefined, field: string, least = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < least) wrong(field, least === 0 ? 'a non-negative integer' : `an integer >= ${least}`, value);
  return value;
}

/** A metric: a number, or null for a non-finite one (read back as NaN). */
function measure(value: JsonValue | undefined, field: string): number {
  if (value === null) return NaN;
  if (typeof value !== 'number') wrong(field, 'a number (null for a non-finite one)', value);
  return value;
}

function readEpoch(value: JsonValue, index: number): EpochMetrics {
  const field = `history[${index}]`;
  if (!isObject(value)) wrong(field, 'an object', value);
  const epoch = count(value.epoch, `${field}.epoch`);
  if (epoch !== index) wrong(`${field}.epoch`, String(index), value.epoch);
  const seconds = value.seconds;
  if (typeof seconds !== 'number' || !(seconds >= 0)) wrong(`${field}.seconds`, 'a non-negative number', seconds);
  const m: EpochMetrics = {
    epoch,
    loss: measure(value.loss, `${field}.loss`),
    accuracy: measure(value.accuracy, `${field}.accuracy`),
    learningRate: measure(value.learningRate, `${field}.learningRate`),
    steps: count(value.steps, `${field}.steps`, 1),
    seconds,
  };
  if (value.val_loss !== undefined) m.val_loss = measure(value.val_loss, `${field}.val_loss`);
  if (value.val_accuracy !== undefined) m.val_accuracy = measure(value.val_accuracy, `${field}.val_accuracy`);
  return m;
}

/**
 * Checks a checkpoint's JSON state and returns it typed; errors name the field at fault.
 * `epochs`: the epochs the checkpoint closes (its sidecar's `epoch`), which the history must match.
 */
export function readPretrainCheckpointState(value: JsonValue | undefined, epochs?: number): PretrainCheckpointState {
  if (value === undefined) throw new Error(`${WHERE}: no job state in the sidecar`);
  if (!isObject(value)) wrong('state', 'an object { step, adamStep, history }', value);
  const step = count(value.step, 'step');
  const adamStep = count(value.adamStep, 'adamStep');
  if (!Array.isArray(value.history)) wrong('history', 'an array of epoch metrics', value.history);
  const history = value.history.map(readEpoch);
  if (epochs !== undefined && history.length !== epochs) {
    throw new Error(`${WHERE}: field history should hold ${epochs} epoch(s), as the checkpoint closes epoch ${epochs}; it holds ${history.length}`);
  }
  const steps = history.reduce((s, h) => s + h.steps, 0);
  if (step !== steps) wrong('step', `the steps of its history (${steps})`, value.step);
  return { step, adamStep, history };
}

/** Host copies of what a checkpoint holds (weights, Adam moments, counters). */
function pretrainSnapshot(state: BertPretrainState) {
  const adam = state.adam.getState();
  return { weights: state.model.weightValues(), adamM: adam.m, adamV: adam.v, adamStep: adam.step, step: state.step, history: state.history.map((h) => ({ ...h })) };
}

/** Restores a snapshot taken by {@link pretrainSnapshot} into a fresh state. */
function restorePretrainSnapshot(state: BertPretrainState, snap: ReturnType<typeof pretrainSnapshot>): void {
  for (const [name, variable] of state.model.weights) {
    const values = snap.weights.get(name);
    if (!values || values.length !== variable.size) throw new Error(`${WHERE}: weight ${name} is missing or has another size`);
    tf.tidy(() => variable.assign(tf.tensor(values, variable.shape, 'float32')));
  }
  const current = state.adam.getState();
  state.adam.setState({ ...current, step: snap.adamStep, m: snap.adamM, v: snap.adamV });
  state.step = snap.step;
  state.history = snap.history.map((h) => ({ ...h }));
}

function toTensors(map: ReadonlyMap<string, Float32Array>, shapes: ReadonlyMap<string, number[]>): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = {};
  for (const [name, values] of map) out[name] = tf.tensor(values, shapes.get(name), 'float32');
  return out;
}

async function fromTensors(loaded: tf.NamedTensorMap): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of Object.entries(loaded)) out.set(name, (await t.data()) as Float32Array);
  tf.dispose(Object.values(loaded));
  return out;
}

/** Saves a pretraining state into a checkpoint being written. */
export async function savePretrainCheckpoint(state: BertPretrainState, writer: CheckpointWriter): Promise<void> {
  const snap = pretrainSnapshot(state);
  const shapes = new Map([...state.model.weights].map(([k, v]) => [k, v.shape]));
  for (const [entry, map] of [['weights', snap.weights], ['adam-m', snap.adamM], ['adam-v', snap.adamV]] as const) {
    const tensors = toTensors(map, shapes);
    try {
      await writer.saveTensors(entry, tensors);
    } finally {
      tf.dispose(Object.values(tensors));
    }
  }
  writer.setState(pretrainCheckpointJson(snap));
}

/** Restores a checkpoint into a state fresh from `initPretraining`; its JSON state is checked first. */
export async function loadPretrainCheckpoint(state: BertPretrainState, reader: CheckpointReader): Promise<void> {
  const saved = readPretrainCheckpointState(reader.state, reader.info.epoch);
  restorePretrainSnapshot(state, {
    weights: await fromTensors(await reader.loadTensors('weights')),
    adamM: await fromTensors(await reader.loadTensors('adam-m')),
    adamV: await fromTensors(await reader.loadTensors('adam-v')),
    adamStep: saved.adamStep,
    step: saved.step,
    history: saved.history,
  });
}
