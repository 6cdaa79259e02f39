/**
 * Masked-LM pretraining of the project's own small BERT on the training captions, so that
 * offline runs and CI have a BERT to embed with, loaded through the same transformers.js
 * path as `Xenova/bert-base-uncased` (DESIGN.md: "BERT").
 *
 *   const result = await pretrainBert({ dir: 'results/bert/quick', captions, validation }, { onEpoch, signal });
 *   result.modelDir;   // DIR/model: config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx
 *
 * What it does: a WordPiece vocabulary learnt from the training captions (wordpiece.ts);
 * sequences of one caption or, with probability `pairProbability`, two (segment ids 0/1);
 * BERT's 15% masking with 80/10/10; Adam (PyTorch's, src/compute/adam.ts; betas 0.9/0.999,
 * epsilon 1e-6 as BERT, no weight decay) with linear warmup then linear decay; gradients
 * clipped to a global norm; dropout 0.1; everything seeded. After every epoch: the masked-LM
 * loss and accuracy on the validation captions (fixed masks, no dropout), a progress line
 * with the ETA, and a checkpoint.
 *
 * Resumable and cached: `DIR/state/epoch-NNNN/` holds the last finished epoch (weights, Adam
 * moments, history), written beside and renamed into place; a rerun resumes there, and each
 * epoch's batch order and masks come from the epoch's own seed, so a resumed run ends with
 * the weights of an uninterrupted one. When `DIR/pretrain.json` says the same settings and
 * corpus finished, the call returns at once (`cached: true`). A folder holding another
 * configuration is an error, never overwritten.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { writeFileAtomic } from '../../common/atomic-write';
import { createRng, seededPermutation } from '../../common/random';
import { epochSeed } from '../../tracking/job';
import { formatDuration } from '../../common/progress';
import { Adam } from '../../compute/adam';
import { BERT_QUICK_SHAPE, checkBertConfig, type BertConfig } from './config';
import { HF_FILES, writeBertFolder } from './hf-folder';
import { makeSequence, maskBatch, type MlmBatch, type Sequence } from './masking';
import { BertModel } from './model';
import { buildWordPieceVocabulary, countBertWords, WordPieceTokenizer, WordPieceVocabulary } from './wordpiece';

/** Every setting of a pretraining, with its default in DEFAULT_PRETRAIN_SETTINGS. */
export interface PretrainSettings {
  /** The BERT's shape (the vocabulary size comes from the corpus). */
  shape: Omit<BertConfig, 'vocabSize'>;
  /** Largest WordPiece vocabulary (special pieces included). */
  maxVocabulary: number;
  /** A WordPiece merge needs a pair seen this often. */
  minPairCount: number;
  epochs: number;
  /** Sequences per step. */
  batchSize: number;
  /** Peak learning rate (after warmup). */
  learningRate: number;
  /** Fraction of all steps spent warming up linearly from 0; then linear decay to 0. */
  warmup: number;
  /** Fraction of pieces masked. */
  maskProbability: number;
  /** Probability that a sequence is a pair of captions (segments 0 and 1). */
  pairProbability: number;
  dropout: number;
  /** Gradients are scaled to this global L2 norm when above it. */
  clipNorm: number;
  adamEpsilon: number;
  seed: number;
}

export const DEFAULT_PRETRAIN_SETTINGS: Readonly<PretrainSettings> = Object.freeze({
  shape: { ...BERT_QUICK_SHAPE },
  maxVocabulary: 4000,
  minPairCount: 2,
  epochs: 10,
  batchSize: 64,
  learningRate: 3e-3,
  warmup: 0.1,
  maskProbability: 0.15,
  pairProbability: 0.5,
  dropout: 0.1,
  clipNorm: 1,
  adamEpsilon: 1e-6,
  seed: 1,
});

/** A pretraining: the corpus and any settings that differ from the defaults. */
export interface PretrainOptions extends Partial<Omit<PretrainSettings, 'shape'>> {
  /** Training captions as word tokens (lower-cased, as the datasets give them). */
  captions: readonly (readonly string[])[];
  /** Held-out captions for the validation loss and accuracy. */
  validation?: readonly (readonly string[])[];
  shape?: Partial<Omit<BertConfig, 'vocabSize'>>;
}

/** Settings with defaults applied and checked; errors name the setting. */
export function resolvePretrainSettings(options: Omit<PretrainOptions, 'captions' | 'validation'>): PretrainSettings {
  const known = new Set([...Object.keys(DEFAULT_PRETRAIN_SETTINGS), 'captions', 'validation']);
  for (const key of Object.keys(options)) if (!known.has(key)) throw new Error(`pretrainBert: unknown setting ${JSON.stringify(key)}; known: ${[...known].join(', ')}`);
  const shapeKeys = new Set(Object.keys(BERT_QUICK_SHAPE));
  for (const key of Object.keys(options.shape ?? {})) if (!shapeKeys.has(key)) throw new Error(`pretrainBert: unknown shape field ${JSON.stringify(key)}; known: ${[...shapeKeys].join(', ')}`);
  const s: PretrainSettings = { ...DEFAULT_PRETRAIN_SETTINGS, ...stripUndefined(options), shape: { ...DEFAULT_PRETRAIN_SETTINGS.shape, ...stripUndefined(options.shape ?? {}) } };
  delete (s as unknown as Record<string, unknown>).captions;
  delete (s as unknown as Record<string, unknown>).validation;
  checkBertConfig({ ...s.shape, vocabSize: 1 });
  const whole = (key: 'epochs' | 'batchSize' | 'maxVocabulary' | 'minPairCount' | 'seed') => {
    if (!Number.isInteger(s[key]) || s[key] < (key === 'seed' ? 0 : 1)) throw new Error(`pretrainBert: ${key} must be a whole number >= ${key === 'seed' ? 0 : 1}, got ${s[key]}`);
  };
  (['epochs', 'batchSize', 'maxVocabulary', 'minPairCount', 'seed'] as const).forEach(whole);
  const inRange = (key: keyof PretrainSettings, lo: number, hi: number, open = false) => {
    const v = s[key] as number;
    if (!(typeof v === 'number' && (open ? v > lo : v >= lo) && v < hi)) throw new Error(`pretrainBert: ${key} must be in ${open ? '(' : '['}${lo}, ${hi}), got ${v}`);
  };
  inRange('learningRate', 0, 1, true);
  inRange('warmup', 0, 1);
  inRange('maskProbability', 0, 1, true);
  inRange('pairProbability', 0, 1.000001);
  inRange('dropout', 0, 1);
  inRange('clipNorm', 0, Infinity, true);
  inRange('adamEpsilon', 0, 1, true);
  return s;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Short SHA-256 of the captions (train and validation), part of the cache key. */
export function corpusFingerprint(captions: readonly (readonly string[])[], validation: readonly (readonly string[])[] = []): string {
  const hash = createHash('sha256');
  for (const [name, list] of [['train', captions], ['validation', validation]] as const) {
    hash.update(`${name}:${list.length}\n`);
    for (const c of list) hash.update(c.join(' ') + '\n');
  }
  return hash.digest('hex').slice(0, 12);
}

/** What one epoch reports. */
export interface EpochMetrics {
  /** Index from 0. */
  epoch: number;
  /** Mean masked-LM loss (cross-entropy, nats) over the epoch's steps. */
  loss: number;
  /** Fraction of masked pieces predicted right, over the epoch. */
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  /** Learning rate of the epoch's last step. */
  learningRate: number;
  steps: number;
  seconds: number;
}

/** Everything a pretraining holds between epochs. */
export interface BertPretrainState {
  settings: PretrainSettings;
  /** Corpus fingerprint. */
  corpus: string;
  /** Hash of settings + corpus: what `pretrain.json` and checkpoints are checked against. */
  key: string;
  vocabulary: WordPieceVocabulary;
  config: BertConfig;
  model: BertModel;
  adam: Adam;
  /** Piece ids of every training caption. */
  train: Int32Array[];
  /** Fixed validation batches (seeded masks). */
  validationBatches: MlmBatch[];
  stepsPerEpoch: number;
  /** Optimiser steps done. */
  step: number;
  history: EpochMetrics[];
}

/** The cache key of a pretraining. */
export function pretrainKey(settings: PretrainSettings, corpus: string): string {
  return createHash('sha256').update(JSON.stringify({ v: 1, settings: sortKeys(settings), corpus })).digest('hex').slice(0, 12);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  return value;
}

/** Builds the vocabulary, the fresh model and optimiser, and the encoded corpus. */
export function initPretraining(options: PretrainOptions): BertPretrainState {
  const settings = resolvePretrainSettings(options);
  const captions = options.captions.filter((c) => c.length > 0);
  if (captions.length < 2) throw new Error(`pretrainBert: needs at least 2 non-empty training captions, got ${captions.length}`);
  const validationCaptions = (options.validation ?? []).filter((c) => c.length > 0);
  const corpus = corpusFingerprint(captions, validationCaptions);
  const vocabulary = buildWordPieceVocabulary(countBertWords(captions), { maxSize: settings.maxVocabulary, minPairCount: settings.minPairCount });
  const tokenizer = new WordPieceTokenizer(vocabulary);
  const encode = (c: readonly string[]) => Int32Array.from(tokenizer.encode(c.join(' ')));
  const train = captions.map(encode);
  const config: BertConfig = checkBertConfig({ ...settings.shape, vocabSize: vocabulary.size });
  const longest = Math.max(...train.map((t) => t.length));
  if (longest + 2 > config.maxPositions) {
    throw new Error(`pretrainBert: the longest training caption has ${longest} pieces; with [CLS] and [SEP] that exceeds maxPositions ${config.maxPositions}`);
  }
  // Validation: single captions, masks drawn once from the seed.
  const rng = createRng(`bert-pretrain:${settings.seed}:validation`);
  const validationBatches: MlmBatch[] = [];
  const validation = validationCaptions.map(encode);
  for (let i = 0; i < validation.length; i += settings.batchSize) {
    const sequences = validation.slice(i, i + settings.batchSize).map((ids) => makeSequence(vocabulary, ids, null, config.maxPositions));
    validationBatches.push(maskBatch(vocabulary, sequences, rng, { probability: settings.maskProbability }));
  }
  const model = new BertModel(config, `bert-pretrain:${settings.seed}`);
  const adam = new Adam(model.weights, { beta1: 0.9, beta2: 0.999, epsilon: settings.adamEpsilon });
  return {
    settings,
    corpus,
    key: pretrainKey(settings, corpus),
    vocabulary,
    config,
    model,
    adam,
    train,
    validationBatches,
    stepsPerEpoch: Math.ceil(train.length / settings.batchSize),
    step: 0,
    history: [],
  };
}

/** The learning rate of step `step` (counted from 1): linear warmup, then linear decay. */
export function learningRateAt(settings: PretrainSettings, stepsPerEpoch: number, step: number): number {
  const total = settings.epochs * stepsPerEpoch;
  const warm = Math.max(1, Math.round(settings.warmup * total));
  if (step <= warm) return (settings.learningRate * step) / warm;
  return settings.learningRate * Math.max(0, (total - step + 1) / (total - warm + 1));
}

function batchTensors(batch: MlmBatch) {
  const { B, S } = batch;
  return {
    inputIds: tf.tensor2d(batch.inputIds, [B, S], 'int32'),
    attentionMask: tf.tensor2d(batch.attentionMask, [B, S], 'int32'),
    tokenTypeIds: tf.tensor2d(batch.tokenTypeIds, [B, S], 'int32'),
  };
}

/** Masked-LM loss (scalar) and the predicted piece of every masked position, for one batch. */
function mlmLoss(state: BertPretrainState, batch: MlmBatch, dropout: number, seed: number): { loss: tf.Scalar; predicted: tf.Tensor1D } {
  const { B, S } = batch;
  const H = state.config.hiddenSize;
  const states = state.model.forward(batchTensors(batch), { dropout, seed });
  const last = states[states.length - 1].reshape([B * S, H]); // [B*S, H]
  const picked = tf.gather(last, tf.tensor1d(batch.positions, 'int32')) as tf.Tensor2D; // [M, H]
  const logits = state.model.mlmLogits(picked); // [M, V]
  const logp = tf.logSoftmax(logits); // [M, V]
  const loss = tf.neg(tf.mean(tf.sum(logp.mul(tf.oneHot(tf.tensor1d(batch.labels, 'int32'), state.config.vocabSize)), 1))) as tf.Scalar; // []
  return { loss, predicted: logits.argMax(1) as tf.Tensor1D };
}

function countCorrect(predicted: ArrayLike<number>, labels: Int32Array): number {
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) n += 1;
  return n;
}

/** Masked-LM loss and accuracy over fixed batches, no dropout. */
export function evaluateMlm(state: BertPretrainState, batches: readonly MlmBatch[] = state.validationBatches): { loss: number; accuracy: number } {
  let lossSum = 0;
  let correct = 0;
  let total = 0;
  for (const batch of batches) {
    const { loss, predicted } = tf.tidy(() => mlmLoss(state, batch, 0, 0));
    lossSum += loss.dataSync()[0] * batch.labels.length;
    correct += countCorrect(predicted.dataSync(), batch.labels);
    total += batch.labels.length;
    tf.dispose([loss, predicted]);
  }
  return total === 0 ? { loss: NaN, accuracy: NaN } : { loss: lossSum / total, accuracy: correct / total };
}

export interface EpochHooks {
  signal?: AbortSignal;
  /** Called after every step with its values. */
  onStep?: (values: { loss: number; accuracy: number; lr: number }) => void;
}

/** The error thrown when `signal` stops a pretraining between steps. */
export class PretrainAbortedError extends Error {
  constructor(epoch: number) {
    super(`pretrainBert: stopped by its signal during epoch ${epoch + 1}; the last finished epoch's checkpoint is kept`);
    this.name = 'PretrainAbortedError';
  }
}

/**
 * Trains epoch `epoch`: the batch order, the pairs and the masks come from `seed` only
 * (the epoch's seed), so a resumed run repeats an uninterrupted one.
 */
export async function trainEpoch(state: BertPretrainState, epoch: number, seed: number, hooks: EpochHooks = {}): Promise<EpochMetrics> {
  const started = Date.now();
  const { settings, vocabulary, config } = state;
  const order = seededPermutation(state.train.length, `bert-pretrain:${seed}:order`);
  const rng = createRng(`bert-pretrain:${seed}:masks`);
  const names = [...state.model.weights.keys()];
  const byVariable = new Map([...state.model.weights].map(([name, v]) => [v.name, name]));
  const variables = names.map((n) => state.model.weights.get(n)!);
  let lossSum = 0;
  let correct = 0;
  let total = 0;
  let lr = 0;
  for (let k = 0; k < state.stepsPerEpoch; k++) {
    if (hooks.signal?.aborted) throw new PretrainAbortedError(epoch);
    // Batch: captions of this step, each paired with a random other caption or alone.
    const sequences: Sequence[] = [];
    for (let i = k * settings.batchSize; i < Math.min(state.train.length, (k + 1) * settings.batchSize); i++) {
      const a = state.train[order[i]];
      const b = rng.chance(settings.pairProbability) ? state.train[rng.int(state.train.length)] : null;
      sequences.push(makeSequence(vocabulary, a, b, config.maxPositions));
    }
    const batch = maskBatch(vocabulary, sequences, rng, { probability: settings.maskProbability });
    state.step += 1;
    lr = learningRateAt(settings, state.stepsPerEpoch, state.step);
    // Forward, loss and gradients.
    let predicted!: tf.Tensor1D;
    const { value, grads } = tf.variableGrads(() => {
      const r = mlmLoss(state, batch, settings.dropout, state.step);
      predicted = tf.keep(r.predicted);
      return r.loss;
    }, variables);
    // Clip by global norm, then update.
    const named = new Map<string, tf.Tensor>();
    tf.tidy(() => {
      const norm = Math.sqrt(tf.addN(Object.values(grads).map((g) => g.square().sum())).dataSync()[0]);
      const scale = norm > settings.clipNorm ? settings.clipNorm / norm : 1;
      for (const [variableName, g] of Object.entries(grads)) named.set(byVariable.get(variableName)!, tf.keep(scale === 1 ? g.clone() : g.mul(scale)));
    });
    state.adam.apply(named, () => lr);
    const loss = value.dataSync()[0];
    const hits = countCorrect(predicted.dataSync(), batch.labels);
    tf.dispose([value, predicted, ...Object.values(grads), ...named.values()]);
    lossSum += loss;
    correct += hits;
    total += batch.labels.length;
    hooks.onStep?.({ loss, accuracy: hits / Math.max(1, batch.labels.length), lr });
    await new Promise((resolve) => setImmediate(resolve)); // lets a signal or SIGINT through
  }
  const metrics: EpochMetrics = { epoch, loss: lossSum / state.stepsPerEpoch, accuracy: correct / Math.max(1, total), learningRate: lr, steps: state.stepsPerEpoch, seconds: 0 };
  if (state.validationBatches.length > 0) {
    const v = evaluateMlm(state);
    metrics.val_loss = v.loss;
    metrics.val_accuracy = v.accuracy;
  }
  metrics.seconds = (Date.now() - started) / 1000;
  state.history.push(metrics);
  return metrics;
}

// ---------------------------------------------------------------------------------------
// State on disk: weights and Adam moments as float32 blobs with a JSON index.

interface BlobIndex {
  name: string;
  offset: number;
  length: number;
}

async function writeFloatMap(file: string, map: ReadonlyMap<string, Float32Array>): Promise<BlobIndex[]> {
  const index: BlobIndex[] = [];
  let offset = 0;
  for (const [name, values] of map) {
    index.push({ name, offset, length: values.length });
    offset += values.length;
  }
  const all = new Float32Array(offset);
  for (const entry of index) all.set(map.get(entry.name)!, entry.offset);
  await fs.promises.writeFile(file, new Uint8Array(all.buffer));
  return index;
}

function readFloatMap(file: string, index: readonly BlobIndex[]): Map<string, Float32Array> {
  const bytes = fs.readFileSync(file);
  const total = index.reduce((n, e) => Math.max(n, e.offset + e.length), 0);
  if (bytes.length !== total * 4) throw new Error(`${file}: ${bytes.length} bytes, its index needs ${total * 4}`);
  const all = new Float32Array(new Uint8Array(bytes).buffer);
  return new Map(index.map((e) => [e.name, all.slice(e.offset, e.offset + e.length)]));
}

/** checkpoint.json of a pretraining state folder. */
interface StateSidecar {
  schema: 'captioning-lab/bert-pretrain-state@1';
  key: string;
  epochsDone: number;
  step: number;
  adamStep: number;
  history: EpochMetrics[];
  weights: BlobIndex[];
  adamM: BlobIndex[];
  adamV: BlobIndex[];
}

/** Host copies of what a checkpoint holds (weights, Adam moments, counters), for any writer. */
export function pretrainSnapshot(state: BertPretrainState) {
  const adam = state.adam.getState();
  return { weights: state.model.weightValues(), adamM: adam.m, adamV: adam.v, adamStep: adam.step, step: state.step, history: state.history.map((h) => ({ ...h })) };
}

/** Restores a snapshot taken by {@link pretrainSnapshot} into a fresh state. */
export function restorePretrainSnapshot(state: BertPretrainState, snap: ReturnType<typeof pretrainSnapshot>): void {
  for (const [name, variable] of state.model.weights) {
    const values = snap.weights.get(name);
    if (!values || values.length !== variable.size) throw new Error(`pretrain checkpoint: weight ${name} is missing or has another size`);
    tf.tidy(() => variable.assign(tf.tensor(values, variable.shape, 'float32')));
  }
  const current = state.adam.getState();
  state.adam.setState({ ...current, step: snap.adamStep, m: snap.adamM, v: snap.adamV });
  state.step = snap.step;
  state.history = snap.history.map((h) => ({ ...h }));
}

/** Writes `DIR/state/epoch-NNNN/` (temporary folder, sidecar last, renamed into place) and drops older epochs. */
export async function savePretrainState(state: BertPretrainState, dir: string): Promise<string> {
  const stateDir = path.join(dir, 'state');
  const name = `epoch-${String(state.history.length).padStart(4, '0')}`;
  const temp = path.join(stateDir, `.tmp-${name}-${process.pid}`);
  await fs.promises.rm(temp, { recursive: true, force: true });
  await fs.promises.mkdir(temp, { recursive: true });
  const snap = pretrainSnapshot(state);
  const sidecar: StateSidecar = {
    schema: 'captioning-lab/bert-pretrain-state@1',
    key: state.key,
    epochsDone: state.history.length,
    step: snap.step,
    adamStep: snap.adamStep,
    history: snap.history,
    weights: await writeFloatMap(path.join(temp, 'weights.bin'), snap.weights),
    adamM: await writeFloatMap(path.join(temp, 'adam-m.bin'), snap.adamM),
    adamV: await writeFloatMap(path.join(temp, 'adam-v.bin'), snap.adamV),
  };
  await fs.promises.writeFile(path.join(temp, 'checkpoint.json'), JSON.stringify(sidecar, null, 1) + '\n');
  const target = path.join(stateDir, name);
  await fs.promises.rm(target, { recursive: true, force: true });
  await fs.promises.rename(temp, target);
  for (const other of await fs.promises.readdir(stateDir)) {
    if (other !== name && /^epoch-\d+$/.test(other)) await fs.promises.rm(path.join(stateDir, other), { recursive: true, force: true });
  }
  return target;
}

/** The last complete state folder of DIR, if any. */
function lastStateFolder(dir: string): { folder: string; sidecar: StateSidecar } | undefined {
  const stateDir = path.join(dir, 'state');
  if (!fs.existsSync(stateDir)) return undefined;
  const names = fs.readdirSync(stateDir).filter((n) => /^epoch-\d+$/.test(n)).sort().reverse();
  for (const n of names) {
    const file = path.join(stateDir, n, 'checkpoint.json');
    if (!fs.existsSync(file)) continue;
    return { folder: path.join(stateDir, n), sidecar: JSON.parse(fs.readFileSync(file, 'utf8')) as StateSidecar };
  }
  return undefined;
}

/** Restores the last saved epoch into a fresh state; returns the epochs done (0: nothing saved). */
export function loadPretrainState(state: BertPretrainState, dir: string): number {
  const last = lastStateFolder(dir);
  if (!last) return 0;
  if (last.sidecar.key !== state.key) {
    throw new Error(`pretrainBert: ${last.folder} belongs to another pretraining (key ${last.sidecar.key}, this one ${state.key}); use another folder or remove it`);
  }
  restorePretrainSnapshot(state, {
    weights: readFloatMap(path.join(last.folder, 'weights.bin'), last.sidecar.weights),
    adamM: readFloatMap(path.join(last.folder, 'adam-m.bin'), last.sidecar.adamM),
    adamV: readFloatMap(path.join(last.folder, 'adam-v.bin'), last.sidecar.adamV),
    adamStep: last.sidecar.adamStep,
    step: last.sidecar.step,
    history: last.sidecar.history,
  });
  return last.sidecar.epochsDone;
}

/** Writes the trained encoder as a transformers.js folder, with the pretraining's facts in config.json. */
export async function exportPretrainedBert(state: BertPretrainState, modelDir: string): Promise<string> {
  const last = state.history[state.history.length - 1];
  await writeBertFolder(modelDir, {
    config: state.config,
    weights: state.model.weightValues(),
    vocabulary: state.vocabulary,
    notes: {
      pretraining: {
        key: state.key,
        corpus: state.corpus,
        settings: state.settings,
        epochs: state.history.length,
        steps: state.step,
        seconds: state.history.reduce((s, h) => s + h.seconds, 0),
        final: last ?? null,
      },
    },
  });
  return modelDir;
}

/** `DIR/pretrain.json`: the record of a finished pretraining. */
export interface PretrainRecord {
  schema: 'captioning-lab/bert-pretrain@1';
  key: string;
  corpus: string;
  settings: PretrainSettings;
  vocabularySize: number;
  trainingCaptions: number;
  history: EpochMetrics[];
  /** Seconds of training over all attempts (epochs only). */
  seconds: number;
  /** The transformers.js folder, relative to DIR. */
  model: 'model';
}

export interface PretrainResult {
  /** The transformers.js folder (absolute path): load it with `BertEmbedder.load(modelDir)`. */
  modelDir: string;
  /** True when a finished pretraining of the same settings and corpus was found. */
  cached: boolean;
  /** Epochs restored from a checkpoint before training (0: from scratch). */
  resumedEpochs: number;
  record: PretrainRecord;
}

export interface PretrainHooks {
  /** Called after every epoch (and its checkpoint) with its metrics. */
  onEpoch?: (metrics: EpochMetrics, record: { epochs: number; etaSeconds: number }) => void;
  /** Stops between steps; the last finished epoch stays on disk for a resume. */
  signal?: AbortSignal;
}

/**
 * Pretrains (or resumes, or finds finished) a BERT in `dir` and returns its transformers.js
 * folder. `log` receives one line per epoch with the ETA (default: stderr; null: silence).
 */
export async function pretrainBert(options: PretrainOptions & { dir: string; log?: ((line: string) => void) | null }, hooks: PretrainHooks = {}): Promise<PretrainResult> {
  const { dir, log: logOption, ...rest } = options;
  const log = logOption === undefined ? (line: string) => process.stderr.write(line + '\n') : logOption;
  const root = path.resolve(dir);
  const recordFile = path.join(root, 'pretrain.json');
  const settings = resolvePretrainSettings(rest);
  const corpus = corpusFingerprint(rest.captions.filter((c) => c.length > 0), (rest.validation ?? []).filter((c) => c.length > 0));
  const key = pretrainKey(settings, corpus);
  if (fs.existsSync(recordFile)) {
    const record = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as PretrainRecord;
    if (record.key !== key) throw new Error(`pretrainBert: ${root} holds another pretraining (key ${record.key}, this one ${key}); use another folder or remove it`);
    if (fs.existsSync(path.join(root, 'model', HF_FILES.model))) {
      log?.(`[captioning-lab] bert-pretrain ${key}: finished earlier (${record.history.length} epochs, ${formatDuration(record.seconds)}), loaded from ${root}`);
      return { modelDir: path.join(root, 'model'), cached: true, resumedEpochs: record.history.length, record };
    }
  }
  const state = initPretraining(rest);
  try {
    const resumedEpochs = loadPretrainState(state, root);
    if (resumedEpochs > 0) log?.(`[captioning-lab] bert-pretrain ${key}: resuming after epoch ${resumedEpochs}/${settings.epochs}`);
    else log?.(`[captioning-lab] bert-pretrain ${key}: ${state.train.length} captions, ${state.vocabulary.size} pieces, H ${state.config.hiddenSize}, L ${state.config.numLayers}, ${settings.epochs} epochs of ${state.stepsPerEpoch} steps`);
    for (let epoch = resumedEpochs; epoch < settings.epochs; epoch++) {
      const m = await trainEpoch(state, epoch, epochSeed(settings.seed, epoch), { signal: hooks.signal });
      await savePretrainState(state, root);
      const done = state.history.slice(resumedEpochs);
      const mean = done.reduce((s, h) => s + h.seconds, 0) / done.length;
      const eta = mean * (settings.epochs - epoch - 1);
      const val = m.val_loss !== undefined ? `, val_loss ${m.val_loss.toFixed(4)}, val_accuracy ${m.val_accuracy!.toFixed(4)}` : '';
      log?.(
        `[captioning-lab] bert-pretrain ${key} epoch ${epoch + 1}/${settings.epochs}: loss ${m.loss.toFixed(4)}, accuracy ${m.accuracy.toFixed(4)}${val}, lr ${m.learningRate.toExponential(2)} (${formatDuration(m.seconds)}${eta > 0 ? `; ETA ${formatDuration(eta)}` : ''})`,
      );
      hooks.onEpoch?.(m, { epochs: settings.epochs, etaSeconds: eta });
    }
    const modelDir = await exportPretrainedBert(state, path.join(root, 'model'));
    const record: PretrainRecord = {
      schema: 'captioning-lab/bert-pretrain@1',
      key,
      corpus,
      settings,
      vocabularySize: state.vocabulary.size,
      trainingCaptions: state.train.length,
      history: state.history,
      seconds: state.history.reduce((s, h) => s + h.seconds, 0),
      model: 'model',
    };
    await writeFileAtomic(recordFile, JSON.stringify(record, null, 2) + '\n');
    return { modelDir, cached: false, resumedEpochs, record };
  } finally {
    state.model.dispose();
    state.adam.dispose();
  }
}
