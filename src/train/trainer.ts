/**
 * The training loop, driven from outside one epoch at a time:
 *
 *   const trainer = new Trainer(captioner, { captions: trainRows, inputs }, options);
 *   await trainer.trainEpoch({ onStep: (p) => console.log(p.step, p.loss, p.etaSeconds) });
 *   const { decayed, stopped } = trainer.endEpoch({ improved });   // lr decay on a plateau, early stopping
 *   const snapshot = trainer.snapshot();                            // what a checkpoint holds (trainer-state.ts)
 *
 * The loop around it is the run store's (job.ts runs one epoch per call of the store); the
 * store is also the one that tracks the best epoch and says whether an epoch improved.
 *
 * A step: forward with teacher forcing and the loss (loss.ts), backward, clip, Adam update.
 * Reproducible: the batch order comes from (seed, epoch) and each step's dropout mask from
 * (seed, epoch, step), never from global random state, so a run restored from the snapshot
 * of epoch k and trained on gives the same weights as one that never stopped (same backend).
 *
 * Inputs read from disk (DiskFeatureInputs) are prefetched: once a step has its own images
 * it asks for the next step's, which are read while it computes. Each step measures how long
 * it waited for its inputs (`inputWaitSeconds`, summed in the epoch record).
 */
import * as tf from '@tensorflow/tfjs';

import { makeCaptionBatch, planBatches } from '../data/batches';
import { createRng } from '../common/random';
import type { EncodedCaptions } from '../data/encoded-captions';
import { type ImageInputs, inputTensor } from '../encoders/inputs';
import { type Captioner, teacherBatch } from '../model/captioner';
import { Adam, type AdamState, type Gradient, type GradientClip, type GradientSlots } from '../compute/adam';
import { planImageBatches } from './batches';
import type { TrainConfig } from '../config';
import { type ClipSetting, globalNorm, gradientClip } from './clip';
import { DataParallelGroup, type WorkerRecipe } from './data-parallel';
import { captionLoss, type TeacherForcingImplementation } from './loss';
import { readWeights, writeWeights } from './trainer-state';


/**
 * The trainer's settings: the config's `train` section (src/config/types.ts documents each
 * key) without what the loop around the trainer decides (epochs, validation), plus the
 * dropout rate and the seed.
 */
export type TrainerOptions = Omit<TrainConfig, 'epochs' | 'validation' | 'workers'> & {
  dropout: number;
  seed: number;
  /** Teacher forcing: 'optimised' (default) or the plain 'reference' (same losses; the bench's "before"). */
  teacherForcing?: TeacherForcingImplementation;
};

/** What one epoch of training returns (job.ts logs it as the epoch record). */
export interface EpochRecord {
  epoch: number;
  steps: number;
  seconds: number;
  /** Mean training loss, and its parts, over the epoch's steps (teacher-forced, with dropout). */
  loss: number;
  crossEntropy: number;
  attention: number;
  learningRate: number;
  /** Seconds the epoch's steps spent awaiting their image inputs (the share of `seconds` spent waiting for input). */
  inputWaitSeconds: number;
}

/** What one optimiser step returns. */
export interface StepResult {
  loss: number;
  crossEntropy: number;
  attention: number;
  /** Seconds the step spent awaiting its inputs (word inputs read ahead, then inputTensor), after any prefetch. */
  inputWaitSeconds: number;
}

/** Counters and schedule state: what a checkpoint stores besides tensors (a type, so that it is JSON). */
export type TrainingProgress = {
  /** Epochs completed. */
  epoch: number;
  /** Optimiser steps completed. */
  step: number;
  learningRate: number;
  encoderLearningRate: number;
  /** Epochs since the validation metric last improved (the plateau that decays lr and stops early). */
  epochsWithoutImprovement: number;
  stopped: boolean;
};

export interface StepProgress {
  epoch: number;
  /** Step within the epoch (1-based) and the epoch's number of steps. */
  step: number;
  steps: number;
  globalStep: number;
  loss: number;
  secondsPerStep: number;
  etaSeconds: number;
}

/** One shard's loss parts and gradients (by our weight names), before the update. */
export interface ShardGradients {
  grads: Map<string, tf.Tensor>;
  loss: number;
  crossEntropy: number;
  attention: number;
  inputWaitSeconds: number;
}

/** Everything needed to resume: counters, weights, optimiser moments. */
export interface TrainingSnapshot {
  progress: TrainingProgress;
  seed: number;
  weights: Map<string, { shape: number[]; data: Float32Array }>;
  adam: AdamState;
}

/** A 31-bit integer seed derived from labels (dropout masks per step). */
export function derivedSeed(...labels: (string | number)[]): number {
  return createRng(labels.join(':')).int(2 ** 31 - 1) + 1;
}

export class Trainer {
  readonly progress: TrainingProgress;
  private readonly variables: Map<string, tf.Variable>;
  private readonly adam: Adam;
  /** The word-input reads started by `prefetch`, awaited by the next step. */
  private pendingWords: Promise<void> | null = null;
  /** Data-parallel workers: asked for by `useWorkers`, started at the first step. */
  private groupStart: { workers: number; recipe: WorkerRecipe } | null = null;
  private group: DataParallelGroup | null = null;
  /** Whether `restore` changed the weights since the workers last received them. */
  private restoredSinceSync = false;
  /** Our weight names by tfjs variable name (gradients come keyed by the latter). */
  private readonly byTfName: Map<string, string>;

  constructor(
    readonly captioner: Captioner,
    readonly train: { captions: EncodedCaptions; inputs: ImageInputs },
    readonly options: TrainerOptions,
  ) {
    this.variables = captioner.variables();
    this.adam = new Adam(this.variables);
    this.byTfName = new Map([...this.variables].map(([n, v]) => [v.name, n]));
    this.progress = {
      epoch: 0,
      step: 0,
      learningRate: options.learningRate,
      encoderLearningRate: options.encoderLearningRate ?? options.learningRate,
      epochsWithoutImprovement: 0,
      stopped: false,
    };
  }

  /** The batches of an epoch: rows of the encoded captions. */
  plan(epoch: number): Int32Array[] {
    if (this.options.imagesPerBatch !== null) return planImageBatches(this.train.captions, { imagesPerBatch: this.options.imagesPerBatch, seed: this.options.seed, epoch });
    return planBatches(this.train.captions, { batchSize: this.options.batchSize, seed: this.options.seed, epoch, shuffle: true, bucketByLength: this.options.bucketByLength });
  }

  /** The teacher-forced batch of some caption rows (each caption keyed by its row, for its dropout mask). */
  private batchOf(rows: Int32Array) {
    const captionBatch = makeCaptionBatch(this.train.captions, rows);
    return teacherBatch(captionBatch.ids, captionBatch.lengths, captionBatch.shape[1], captionBatch.images, rows);
  }

  /**
   * Starts reading a batch's inputs ahead where they live on disk: its images (disk
   * features) and its captions' word inputs (cached BERT vectors); the step that trains on
   * it then finds them read.
   */
  prefetch(rows: Int32Array): void {
    if (this.train.inputs.prefetch) this.train.inputs.prefetch(this.batchOf(rows).uniqueImages);
    const words = this.captioner.words;
    if (words.prefetch) {
      const { ids, offsets } = this.train.captions;
      this.pendingWords = words.prefetch(Array.from(rows, (r) => ids.subarray(offsets[r], offsets[r + 1])));
    }
  }

  /**
   * Trains with W data-parallel workers (data-parallel.ts): from the next step on, each step's
   * rows are split among this trainer and W - 1 worker threads, which build their own trainer
   * from `recipe`. Call once, before training; `dispose` stops the workers.
   */
  useWorkers(workers: number, recipe: WorkerRecipe): void {
    if (this.group || this.groupStart) throw new Error('Trainer.useWorkers: workers are already set');
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`Trainer.useWorkers: workers must be a whole number >= 1, got ${workers}`);
    if (workers > 1) this.groupStart = { workers, recipe };
  }

  /** Data-parallel workers in use (1: this trainer alone). */
  get workers(): number {
    return this.group?.size ?? this.groupStart?.workers ?? 1;
  }

  /**
   * One optimiser step on some caption rows; returns the loss, its parts and the time spent
   * waiting for the inputs. `next`: the rows of the step after, whose inputs are prefetched
   * once this step has its own.
   */
  async trainStep(rows: Int32Array, epoch: number, stepInEpoch: number, options: { next?: Int32Array } = {}): Promise<StepResult> {
    const group = await this.startedGroup();
    const step = { epoch, stepInEpoch };
    const out = group
      ? await group.trainStep(rows, step, options.next)
      : await (async () => {
          const shard = await this.shardGradients(rows, step, { next: options.next });
          this.applyGradients(shard.grads);
          return shard;
        })();
    this.progress.step += 1;
    return { loss: out.loss, crossEntropy: out.crossEntropy, attention: out.attention, inputWaitSeconds: out.inputWaitSeconds };
  }

  /**
   * Forward and backward on some caption rows: the loss parts and the gradients by weight
   * name (the caller applies or sums them). `normalization`: the whole batch's token and
   * caption counts when these rows are one shard of it (loss.ts).
   */
  async shardGradients(rows: Int32Array, step: { epoch: number; stepInEpoch: number }, options: { next?: Int32Array; normalization?: { tokens: number; captions: number } } = {}): Promise<ShardGradients> {
    const batch = this.batchOf(rows);
    const waitStarted = performance.now();
    if (this.pendingWords) await this.pendingWords; // the word inputs read ahead (prefetch)
    this.pendingWords = null;
    const inputs = await inputTensor(this.train.inputs, batch.uniqueImages); // [U, …]: each image once
    const inputWaitSeconds = (performance.now() - waitStarted) / 1000;
    if (options.next) this.prefetch(options.next);
    const dropoutSeed = derivedSeed('dropout', this.options.seed, step.epoch, step.stepInEpoch);
    let parts: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const out = captionLoss(this.captioner, inputs, batch, {
        alphaC: this.options.alphaC,
        attentionPenalty: this.options.attentionPenalty,
        dropout: this.options.dropout,
        dropoutSeed,
        implementation: this.options.teacherForcing ?? 'optimised',
        ...(options.normalization ? { normalization: options.normalization } : {}),
      });
      parts = [tf.keep(out.crossEntropy), tf.keep(out.attention)];
      return out.loss;
    }, [...this.variables.values()]);
    inputs.dispose();
    const [loss, crossEntropy, attention] = [value, ...parts].map((t) => t.dataSync()[0]);
    tf.dispose([value, ...parts]);
    const byName = new Map(Object.entries(grads).map(([tfName, g]) => [this.byTfName.get(tfName)!, g]));
    return { grads: byName, loss, crossEntropy, attention, inputWaitSeconds };
  }

  /** One Adam update at the current learning rates from gradients (tensors are freed here, host values are the caller's), clipped as train.clip says. */
  applyGradients(grads: ReadonlyMap<string, Gradient>): void {
    this.adam.apply(grads, this.learningRateOf(), gradientClip(this.options.clip, () => globalNorm(grads)));
    tf.dispose([...grads.values()].filter((g): g is tf.Tensor => g instanceof tf.Tensor));
  }

  /**
   * For data-parallel workers (data-parallel.ts): the optimiser's moments in shared memory
   * ([2, total], laid out as weightLayout; null: back in this trainer), its own copied there when `copy`; then
   * `applyGradientShare` updates this thread's share of the weights' values from the workers'
   * gradient slots into `updated`, and `takeUpdatedWeights` takes every share's new values.
   */
  shareOptimiserState(moments: Float32Array | null, copy = false): void {
    if (moments) this.adam.shareMoments(moments, this.weightLayout(), copy);
    else this.adam.unshareMoments(); // the group stopped: the moments are this trainer's own again
  }

  /** This thread's share [from, to) of one Adam update at the current learning rates (see shareOptimiserState). */
  applyGradientShare(gradients: GradientSlots, range: { from: number; to: number }, present: readonly boolean[], updated: Float32Array, clip: GradientClip): void {
    this.adam.applyShare(gradients, range, present, updated, this.learningRateOf(), clip);
  }

  /** Takes the new values of the weights every share updated (see shareOptimiserState). */
  takeUpdatedWeights(updated: Float32Array, present: readonly boolean[]): void {
    this.adam.takeUpdatedWeights(updated, present, this.learningRateOf());
  }

  /** How gradients are clipped (train.clip). */
  get clipSetting(): ClipSetting {
    return this.options.clip;
  }

  /** Each weight's learning rate now: the encoder's own rate for encoder weights. */
  private learningRateOf(): (name: string) => number {
    const { learningRate, encoderLearningRate } = this.progress;
    return (name) => (name.startsWith('encoder.') ? encoderLearningRate : learningRate);
  }

  /** The weights in a fixed order with their sizes: how workers lay out gradients in shared memory. */
  weightLayout(): { name: string; size: number }[] {
    return [...this.variables].map(([name, v]) => ({ name, size: v.size }));
  }

  /** The worker group, started at the first step after `useWorkers` (with this trainer's weights and optimiser state). */
  private async startedGroup(): Promise<DataParallelGroup | null> {
    if (!this.group && this.groupStart) {
      const { workers, recipe } = this.groupStart;
      this.group = await DataParallelGroup.start(this, workers, recipe);
      this.groupStart = null;
    } else if (this.group && this.restoredSinceSync) {
      await this.group.syncState();
    }
    this.restoredSinceSync = false;
    return this.group;
  }

  /** Trains the next epoch (number progress.epoch) and returns its record. */
  async trainEpoch(callbacks: { onStep?: (p: StepProgress) => void } = {}): Promise<EpochRecord> {
    if (this.progress.stopped) throw new Error('Trainer: training has stopped (early stopping); nothing to train');
    const epoch = this.progress.epoch;
    const plan = this.plan(epoch);
    const started = Date.now();
    let [loss, crossEntropy, attention, inputWaitSeconds] = [0, 0, 0, 0];
    for (let s = 0; s < plan.length; s++) {
      const out = await this.trainStep(plan[s], epoch, s, { next: plan[s + 1] });
      loss += out.loss;
      crossEntropy += out.crossEntropy;
      attention += out.attention;
      inputWaitSeconds += out.inputWaitSeconds;
      if (callbacks.onStep) {
        const secondsPerStep = (Date.now() - started) / 1000 / (s + 1);
        callbacks.onStep({ epoch, step: s + 1, steps: plan.length, globalStep: this.progress.step, loss: out.loss, secondsPerStep, etaSeconds: secondsPerStep * (plan.length - s - 1) });
      }
    }
    const n = Math.max(1, plan.length);
    const record: EpochRecord = { epoch, steps: plan.length, seconds: (Date.now() - started) / 1000, loss: loss / n, crossEntropy: crossEntropy / n, attention: attention / n, learningRate: this.progress.learningRate, inputWaitSeconds };
    this.progress.epoch += 1;
    return record;
  }

  /**
   * Closes an epoch, given whether its validation metric improved on the best epoch so far
   * (the run store keeps the best epoch and answers that: EpochContext.isImprovement):
   * decays the learning rates on a plateau and stops early.
   */
  endEpoch(validation: { improved: boolean }): { decayed: boolean; stopped: boolean } {
    const p = this.progress;
    let decayed = false;
    if (validation.improved) {
      p.epochsWithoutImprovement = 0;
    } else {
      p.epochsWithoutImprovement += 1;
      if (p.epochsWithoutImprovement >= this.options.earlyStopping.patience) p.stopped = true;
      else if (p.epochsWithoutImprovement % this.options.lrDecay.patience === 0) {
        p.learningRate *= this.options.lrDecay.factor;
        p.encoderLearningRate *= this.options.lrDecay.factor;
        decayed = true;
      }
    }
    return { decayed, stopped: p.stopped };
  }

  /** Everything needed to resume, as host arrays (trainer-state.ts turns it into a checkpoint). */
  snapshot(): TrainingSnapshot {
    return {
      progress: { ...this.progress },
      seed: this.options.seed,
      weights: readWeights(this.variables),
      adam: this.adam.getState(),
    };
  }

  /** Restores a snapshot into this trainer (its model must have the same weights). */
  restore(snapshot: TrainingSnapshot): void {
    if (snapshot.seed !== this.options.seed) throw new Error(`Trainer.restore: the snapshot was trained with seed ${snapshot.seed}, this trainer has seed ${this.options.seed}`);
    writeWeights(this.variables, snapshot.weights);
    this.adam.setState(snapshot.adam);
    Object.assign(this.progress, snapshot.progress);
    this.restoredSinceSync = true;
    this.group?.weightsReplaced(); // until the next sync its threads hold other weights
  }

  /** Frees the optimiser state and stops the workers. */
  dispose(): void {
    void this.group?.close(); // gives the optimiser its moments back at once (before its first await), then stops the threads
    this.group = null;
    this.adam.dispose();
  }
}
