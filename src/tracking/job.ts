/**
 * What a training job gives the run store, and what the store gives it back.
 *
 * A job is a config plus five functions: build the state (`init`), train one epoch
 * (`epoch`), save and load a checkpoint, and optionally evaluate the trained state. The
 * store decides whether to train at all (a finished run is loaded), where to start (the last
 * checkpoint of an interrupted or failed run), and records everything in the run folder.
 *
 *   const job: TrainingJob<MyState> = {
 *     name: 'baseline', config, epochs: 5, seed: 1, fingerprints: { dataset: fp },
 *     metricLabels: { val_loss: { name: 'loss', split: 'val', protocol: 'teacher-forced' } },
 *     best: { metric: 'val_loss', mode: 'min' },
 *     init: (ctx) => buildModelAndOptimizer(config, ctx.seed),
 *     epoch: async (state, ctx) => { …; ctx.logStep({ loss }); …; if (noProgress) ctx.stopEarly('…'); return { loss, val_loss } },
 *     saveCheckpoint: async (state, w) => { await w.saveTensors('weights', state.weights); await w.saveOptimizer('adam', state.optimizer) },
 *     loadCheckpoint: async (state, r) => { await r.loadTensorsInto('weights', state.weights); await r.loadOptimizer('adam', state.optimizer) },
 *   };
 *   const run = await experiment(job);   // trains, resumes, or loads the finished run
 *
 * Reproducible resume: draw every random number of epoch k from `ctx.epochSeed` (e.g. the
 * batch order), never from a generator that lives across epochs, and keep any other state
 * that crosses epochs in the checkpoint (`writer.setState`): then an interrupted-and-resumed
 * run ends with the same weights as an uninterrupted one.
 */
import type { CheckpointReader, CheckpointWriter } from './checkpoint-io';
import type { JsonValue } from './canonical';
import type { MetricLabel, RunMetric } from './records';

/** What every hook sees. */
export interface RunContext {
  runId: string;
  /** The run folder. */
  dir: string;
  seed: number;
  /** Epochs planned. */
  epochs: number;
  /** The canonical config (as hashed and stored). */
  config: JsonValue;
  /** A line to the run's log (stderr by default). */
  log(line: string): void;
}

/** What an epoch sees, in addition. */
export interface EpochContext extends RunContext {
  /** This epoch's index, from 0. */
  epoch: number;
  /** Optimiser steps done before this epoch (over all attempts). */
  stepsBefore: number;
  /** A seed for this epoch's random choices: the same on a resume as in an uninterrupted run. */
  epochSeed: number;
  /** Declares the number of steps of this epoch, for the progress bar and its ETA. */
  setSteps(count: number): void;
  /** Logs one optimiser step's values (a metrics.jsonl line); returns the global step number. */
  logStep(values: Record<string, number>): number;
  /** True once SIGINT asked training to stop; the store stops after this epoch's checkpoint. */
  readonly interruptRequested: boolean;
  /**
   * Ends the run after this epoch (early stopping): the store checkpoints this epoch, trains
   * no later one, records why in status.json (`stop`), and evaluates. `detail` says why.
   */
  stopEarly(detail: string): void;
  /** A short note appended to this epoch's progress line (e.g. "best so far"). */
  note(text: string): void;
  /**
   * Whether `value` of the job's `best` metric beats the best epoch so far. The store keeps
   * the one record of the best epoch (it picks the checkpoint that is kept and evaluated);
   * a job's own schedule (lr decay on a plateau, early stopping) asks it here. Without
   * `best`, every epoch improves.
   */
  isImprovement(value: number): boolean;
}

/** What `evaluate` sees, in addition. */
export interface EvaluationContext extends RunContext {
  /**
   * Loads the best epoch's checkpoint into the state (through `loadCheckpoint`), when the
   * state holds another epoch; a job that evaluates its best weights calls it first.
   */
  restoreBest(): Promise<void>;
}

/** One generated caption, COCO result format. */
export interface CaptionResult {
  image_id: number | string;
  caption: string;
}

/** Attention weights of one decoded caption: T words over an H x W grid of regions. */
export interface AttentionMap {
  imageId: number | string;
  words: string[];
  /** [T, H, W]. */
  shape: [number, number, number];
  /** T*H*W weights, word-major then row-major. */
  alphas: Float32Array | number[];
}

/** What `evaluate` returns: scores with their protocol, and the files behind them. */
export interface Evaluation {
  metrics?: RunMetric[];
  /** Generated captions per split (COCO result format), written to captions-<split>.json. */
  captions?: Record<string, CaptionResult[]>;
  /** Attention per split, written to attention-<split>.json/.bin. */
  attention?: Record<string, AttentionMap[]>;
}

/** A training job the run store can train, checkpoint, resume and evaluate. */
export interface TrainingJob<State> {
  /** Readable prefix of the run id (e.g. 'baseline', 'bert'). */
  name: string;
  /** The resolved config: plain JSON, hashed into the run id, stored with the run and in every checkpoint. */
  config: unknown;
  /** Epochs to train. */
  epochs: number;
  /** Seed of every random choice. */
  seed: number;
  /** Fingerprints of the data read (dataset, vocabulary, feature cache), part of the run id. */
  fingerprints?: Record<string, string>;
  /** How this attempt runs (e.g. { workers: 2 }): recorded in environment.json, not part of the run id. */
  execution?: Record<string, string | number | boolean>;
  /** Epoch metric keys reported as summary metrics, with their protocol. */
  metricLabels?: Record<string, MetricLabel>;
  /** The epoch metric that picks the best checkpoint (kept besides the last ones). */
  best?: { metric: string; mode: 'min' | 'max' };
  /** Builds a fresh state from the config: model, optimiser, data. Called once per attempt and by `run.restore`. */
  init(ctx: RunContext): Promise<State> | State;
  /** Trains epoch `ctx.epoch`; returns its metrics (e.g. { loss, val_loss }). */
  epoch(state: State, ctx: EpochContext): Promise<Record<string, number>>;
  /** Saves what a resume needs: weights, optimiser state, JSON state. */
  saveCheckpoint(state: State, writer: CheckpointWriter, ctx: RunContext): Promise<void>;
  /** Restores a checkpoint into a state fresh from `init`. */
  loadCheckpoint(state: State, reader: CheckpointReader, ctx: RunContext): Promise<void>;
  /** Scores the trained state; its metrics, captions and attention go into the run folder. */
  evaluate?(state: State, ctx: EvaluationContext): Promise<Evaluation>;
  /** Frees the state's tensors. */
  dispose?(state: State): void;
}

/** The seed of epoch `epoch` of a run seeded with `seed` (a 32-bit mix, stable across versions). */
export function epochSeed(seed: number, epoch: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
