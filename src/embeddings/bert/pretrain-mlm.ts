/**
 * The masked-LM training of the project's own small BERT: the state a pretraining holds
 * between epochs, one epoch of training, the learning-rate schedule and the held-out
 * evaluation. The run store drives it epoch by epoch (pretrain-job.ts) and checkpoints it
 * (pretrain-checkpoint.ts); nothing here touches the disk.
 *
 *   const state = initPretraining({ captions, validation, epochs: 3 });
 *   const m = await trainEpoch(state, 0, epochSeed(state.settings.seed, 0));   // m.loss, m.val_loss, ...
 *
 * What an epoch does: sequences of one caption or, with probability `pairProbability`, two
 * (segment ids 0/1); BERT's 15% masking with 80/10/10; Adam (PyTorch's, src/compute/adam.ts;
 * betas 0.9/0.999, epsilon 1e-6 as BERT, no weight decay) with linear warmup then linear
 * decay; gradients clipped to a global norm; dropout 0.1. The batch order, the pairs and the
 * masks come from the epoch's seed only, so a resumed run repeats an uninterrupted one. After
 * the epoch: the masked-LM loss and accuracy on the validation captions (fixed masks, no dropout).
 */
import * as tf from '@tensorflow/tfjs';

import { createRng, seededPermutation } from '../../common/random';
import { Adam } from '../../compute/adam';
import { checkBertConfig, type BertConfig } from './config';
import { makeSequence, maskBatch, type MlmBatch, type Sequence } from './masking';
import { BertModel } from './model';
import { corpusFingerprint, resolvePretrainSettings, type PretrainOptions, type PretrainSettings } from './pretrain-settings';
import { buildWordPieceVocabulary, countBertWords, WordPieceTokenizer, WordPieceVocabulary } from './wordpiece';

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

/** Builds the vocabulary, the fresh model and optimiser, and the encoded corpus. */
export function initPretraining(options: PretrainOptions): BertPretrainState {
  const settings = resolvePretrainSettings(options);
  const captions = options.captions.filter((c) => c.length > 0);
  if (captions.length < 2) throw new Error(`bert pretraining: needs at least 2 non-empty training captions, got ${captions.length}`);
  const validationCaptions = (options.validation ?? []).filter((c) => c.length > 0);
  const corpus = corpusFingerprint(captions, validationCaptions);
  const vocabulary = buildWordPieceVocabulary(countBertWords(captions), { maxSize: settings.maxVocabulary, minPairCount: settings.minPairCount });
  const tokenizer = new WordPieceTokenizer(vocabulary);
  const encode = (c: readonly string[]) => Int32Array.from(tokenizer.encode(c.join(' ')));
  const train = captions.map(encode);
  const config: BertConfig = checkBertConfig({ ...settings.shape, vocabSize: vocabulary.size });
  const longest = Math.max(...train.map((t) => t.length));
  if (longest + 2 > config.maxPositions) {
    throw new Error(`bert pretraining: the longest training caption has ${longest} pieces; with [CLS] and [SEP] that exceeds maxPositions ${config.maxPositions}`);
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
  /** Called after every step with its values. */
  onStep?: (values: { loss: number; accuracy: number; lr: number }) => void;
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
    await new Promise((resolve) => setImmediate(resolve)); // lets SIGINT through to the run store
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
