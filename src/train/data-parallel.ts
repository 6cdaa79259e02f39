/**
 * Data-parallel training of one run on W cores (issue #16). tfjs's wasm backend runs one
 * thread per process, so one run used one core however many the machine has. Here the
 * trainer of the run (this thread) and W - 1 worker threads, each with its own backend and
 * its own copy of the model, share every step:
 *
 *   rows of the step -> W shards (by caption length, dealt in turn, so the shards are alike)
 *   each: forward and backward on its shard, the loss divided by the whole batch's counts
 *         (loss.ts `normalization`), gradients written into its slot of shared memory
 *   each: the Adam update of its share of the weights' values (1/W of them, laid end to end):
 *         the slots summed in slot order on the way (= the whole batch's gradient), clipped,
 *         the moments (one copy, in shared memory) in place, the new values into a shared row
 *   each: every share's new values taken from the row -> the weights stay identical
 *
 * Each thread updating a share, instead of every thread updating every weight, keeps the
 * optimiser's memory traffic that of one update however many workers train (the moments are
 * read and written once per step, not W times); clipping by the global norm first sums the
 * threads' partial sums of squares.
 *
 * The recurrent weights' packed copy, which every time step of every shard reads, is shared
 * too (compute/shared-panels.ts): one copy in the cache the cores share instead of one per thread.
 *
 * Dropout masks belong to the captions (src/model/dropout.ts), so W workers and one train the
 * same numbers up to float rounding (test/train/data-parallel.test.ts). A worker builds its
 * trainer from a recipe (a module and an exported factory, given JSON), then receives this
 * trainer's weights and optimiser state; again after every `restore` (a resumed run).
 *
 *   trainer.useWorkers(2, { module: __filename, exportName: 'workerTrainer', argument: config });
 *   await trainer.trainStep(rows, epoch, step);   // the group starts at the first step
 */
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';

import * as tf from '@tensorflow/tfjs';

import { tsWorkerSource } from '../common/ts-worker';
import type { BackendKind } from '../compute/backend';
import { type GradientClip, type GradientSlots, summedSlots } from '../compute/adam';
import { SharedPanels, sharePanels, type WeightsVersion } from '../compute/shared-panels';
import { copyValuesInto } from '../compute/tensor-values';
import { rowLength } from '../data/encoded-captions';
import { gradientClip } from './clip';
import type { Trainer, TrainingSnapshot } from './trainer';

/** How a worker thread builds its own trainer: `require(module)[exportName](argument)`, after its backend is chosen. */
export interface WorkerRecipe {
  /** Absolute path of a TypeScript or JavaScript module. */
  module: string;
  exportName: string;
  /** Plain data (structured-cloned to the worker). */
  argument: unknown;
}

/** What this thread tells a worker. */
export type ToWorker =
  | { kind: 'state'; snapshot: TrainingSnapshot; generation: number }
  | { kind: 'step'; rows: Int32Array; next: Int32Array | null; epoch: number; stepInEpoch: number; normalization: { tokens: number; captions: number } }
  | { kind: 'norm'; slots: number; from: number; to: number; present: boolean[] }
  | { kind: 'update'; update: number; slots: number; from: number; to: number; present: boolean[]; clip: GradientClip; learningRate: number; encoderLearningRate: number }
  | { kind: 'take'; update: number; present: boolean[] }
  | { kind: 'close' };

/** What a worker answers. */
export type FromWorker =
  | { kind: 'ready'; layout: { name: string; size: number }[] }
  | { kind: 'synced' }
  | { kind: 'done'; present: boolean[]; loss: number; crossEntropy: number; attention: number }
  | { kind: 'normed'; squares: number }
  | { kind: 'updated' }
  | { kind: 'error'; message: string };

/** What a worker is started with (worker_threads' workerData). */
export interface WorkerStart {
  recipe: WorkerRecipe;
  backend: BackendKind;
  /** Its slot in the shared gradients (1..W-1; this thread is 0). */
  slot: number;
  /** Float32 [W + 4, total] (`sharedRows`): W gradient slots, updated weights (two rows), the moments m and v. */
  shared: SharedArrayBuffer;
  /** The recurrent weights packed once for all threads (compute/shared-panels.ts). */
  panels: SharedArrayBuffer;
}

/** Set by `trainRuns` for each training process: the cores its run may use where `train.workers` is 'auto'. */
export const WORKERS_ENV = 'CAPTIONING_WORKERS';

/**
 * Node flags for a process that trains (`trainRuns`' children, `npm run bench`, the
 * `captioning` command): V8's garbage collector on the thread that made the garbage. Its
 * helper threads otherwise take cores that data-parallel workers and parallel runs already
 * fill (bench/README.md, "Issue #16, continued"); a lone one-worker run showed no difference.
 * package.json's `captioning` and `bench` scripts and bin/captioning.js pass the same flag.
 */
export const TRAINING_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];

/**
 * Below this much arithmetic per step (GFLOP, estimated by `stepGflop`) 'auto' trains with one
 * worker. Set from `npm run bench` on 2 cores before the native kernels (bench/README.md): the
 * quick profile's step (below this by `stepGflop`) took longer with 2 workers than with 1, the
 * `small` shape's (above it) less. With the native kernels the bench's quick-data row gained
 * from 2 workers in some runs and not in others (bench/README.md, "Issue #16, continued"), so
 * the threshold stays until a steadier measurement says otherwise.
 */
export const AUTO_WORKERS_MIN_GFLOP = 4;

/** A step's matMul arithmetic, roughly: 6 FLOP per weight and token (forward, and two products backward). */
export function stepGflop(weights: number, tokensPerStep: number): number {
  return (6 * weights * tokensPerStep) / 1e9;
}

/**
 * The workers a run trains with: a number as given; 'auto' the cores `trainRuns` gave its
 * process (CAPTIONING_WORKERS), else every core, when a step is large enough to gain from
 * them (`AUTO_WORKERS_MIN_GFLOP`); always 1 off the one-thread CPU backends (tfjs-node runs
 * its own threads, a GPU trains one run at a time).
 */
export function resolveWorkers(setting: number | 'auto', tfBackend: string, gflopPerStep: number, env: NodeJS.ProcessEnv = process.env): number {
  if (setting !== 'auto') return setting;
  if (tfBackend !== 'wasm' && tfBackend !== 'cpu') return 1;
  if (gflopPerStep < AUTO_WORKERS_MIN_GFLOP) return 1;
  const given = env[WORKERS_ENV];
  if (given === undefined || given === '') return Math.max(1, os.availableParallelism());
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${WORKERS_ENV} must be a whole number >= 1, got ${JSON.stringify(given)}`);
  return n;
}

/** Shards of a step's rows: sorted by caption length, dealt in turn; at most `count`, none empty. */
export function splitRows(rows: Int32Array, lengthOf: (row: number) => number, count: number): Int32Array[] {
  const sorted = Array.from(rows).sort((a, b) => lengthOf(b) - lengthOf(a) || a - b);
  const shards = Array.from({ length: Math.min(count, rows.length) }, () => [] as number[]);
  sorted.forEach((row, k) => shards[k % shards.length].push(row));
  return shards.map((s) => Int32Array.from(s));
}

/** The backend a worker must use: this thread's (data-parallel workers are for the one-thread CPU backends). */
function workerBackend(): BackendKind {
  const name = tf.getBackend();
  if (name === 'wasm' || name === 'cpu') return name;
  throw new Error(`data-parallel workers run on the wasm or cpu backend, not ${JSON.stringify(name)}: tfjs-node uses every core itself and a GPU trains one run at a time (set train.workers to 1)`);
}

/** One worker thread with a queue of replies. */
class WorkerHandle {
  private readonly replies: FromWorker[] = [];
  private readonly waiting: ((reply: FromWorker) => void)[] = [];
  private failure: Error | null = null;

  constructor(private readonly worker: Worker) {
    worker.unref(); // an idle worker does not keep the process alive; `next` holds it while a reply is awaited
    worker.on('message', (reply: FromWorker) => this.deliver(reply));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`data-parallel worker exited (code ${code})`)));
  }

  post(message: ToWorker): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage(message);
  }

  /** The next reply, which must be of `kind`. */
  async next<K extends FromWorker['kind']>(kind: K): Promise<Extract<FromWorker, { kind: K }>> {
    let reply = this.replies.shift();
    if (!reply) {
      this.worker.ref();
      try {
        reply = await new Promise<FromWorker>((resolve, reject) => {
          if (this.failure) return reject(this.failure);
          this.waiting.push(resolve);
        });
      } finally {
        this.worker.unref();
      }
    }
    if (reply.kind === 'error') throw new Error(`data-parallel worker: ${reply.message}`);
    if (reply.kind !== kind) throw new Error(`data-parallel worker: expected '${kind}', got '${reply.kind}'`);
    return reply as Extract<FromWorker, { kind: K }>;
  }

  async close(): Promise<void> {
    this.failure ??= new Error('data-parallel worker closed');
    await this.worker.terminate();
  }

  private deliver(reply: FromWorker): void {
    const resolve = this.waiting.shift();
    if (resolve) resolve(reply);
    else this.replies.push(reply);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const resolve of this.waiting.splice(0)) resolve({ kind: 'error', message: error.message });
  }
}

/** Gradients by weight name into a slot of the shared buffer (zeros for a weight without one); which had one. */
export function writeGradients(layout: readonly { name: string; size: number }[], grads: ReadonlyMap<string, tf.Tensor>, slot: Float32Array): boolean[] {
  let offset = 0;
  return layout.map(({ name, size }) => {
    const g = grads.get(name);
    if (g) copyValuesInto(g, slot, offset);
    else slot.fill(0, offset, offset + size);
    offset += size;
    return g !== undefined;
  });
}

/** Rows of a group's shared memory besides the W gradient slots: two of updated weights, the moments m and v. */
const EXTRA_ROWS = 4;

/** A group's shared memory for W workers and weights of `total` values. */
export function sharedMemory(workers: number, total: number): SharedArrayBuffer {
  return new SharedArrayBuffer((workers + EXTRA_ROWS) * total * 4);
}

/**
 * The rows of a group's shared memory (Float32 [W + 4, total], each laid out as the weights):
 * the W gradient slots (`gradients`, summed in slot order by the update), the updated weights
 * of even and odd updates (written by each thread's share of an update, read by every thread
 * before the update after next may write the row again), then the optimiser's moments [2, total].
 */
export function sharedRows(shared: SharedArrayBuffer, total: number): { gradients: (slots: number) => GradientSlots; slot: (k: number) => Float32Array; updated: (update: number) => Float32Array; moments: Float32Array } {
  const workers = shared.byteLength / 4 / total - EXTRA_ROWS;
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`data-parallel shared memory of ${shared.byteLength} bytes is not [W + ${EXTRA_ROWS}, ${total}] floats`);
  const row = (k: number, rows = 1) => new Float32Array(shared, k * total * 4, rows * total);
  return {
    gradients: (slots) => ({ values: row(0, slots), slots, total }),
    slot: (k) => row(k),
    updated: (update) => row(workers + (update % 2)),
    moments: row(workers + 2, 2),
  };
}

/** Thread k's share [from, to) of `total` values split among `threads` (thread 0: the group's own). */
export function shareOf(total: number, threads: number, k: number): { from: number; to: number } {
  const share = Math.ceil(total / threads);
  return { from: Math.min(total, k * share), to: Math.min(total, (k + 1) * share) };
}

/** The sum of squares of the summed gradients (slot 0 + slot 1 + … in slot order) over [from, to), where `present`: a thread's part of the global norm. */
export function squaresOf(gradients: GradientSlots, layout: readonly { size: number }[], present: readonly boolean[], range: { from: number; to: number }): number {
  const { values, slots, total } = gradients;
  let squares = 0;
  let offset = 0;
  layout.forEach(({ size }, k) => {
    const [a, b] = [Math.max(range.from, offset), Math.min(range.to, offset + size)];
    offset += size;
    if (!present[k] || a >= b) return;
    for (const g of summedSlots(values.subarray(a), slots, total, b - a)) squares += g * g;
  });
  return squares;
}

export class DataParallelGroup {
  private readonly layout: { name: string; size: number }[];
  /** The version of the weights this thread holds, as all threads do; undefined after a restore until the next sync. */
  private weightsVersion: WeightsVersion | undefined;
  private readonly rows: ReturnType<typeof sharedRows>;
  private readonly total: number;
  /** Updates applied by the group (which row of updated weights the next one writes). */
  private updates = 0;

  private constructor(
    private readonly trainer: Trainer,
    private readonly workers: WorkerHandle[],
    private readonly shared: SharedArrayBuffer,
    private readonly panels: SharedPanels,
  ) {
    this.layout = trainer.weightLayout();
    this.total = this.layout.reduce((a, w) => a + w.size, 0);
    this.rows = sharedRows(shared, this.total);
  }

  /** Workers in all, this thread included. */
  get size(): number {
    return this.workers.length + 1;
  }

  /** Starts W - 1 workers that build their trainer from `recipe`, checks they hold the same weights, and gives them this trainer's state. */
  static async start(trainer: Trainer, workers: number, recipe: WorkerRecipe): Promise<DataParallelGroup> {
    const backend = workerBackend();
    const layout = trainer.weightLayout();
    const total = layout.reduce((a, w) => a + w.size, 0);
    const shared = sharedMemory(workers, total);
    const panels = SharedPanels.create(2 * total + 65536); // the packed weights are at most about twice the weights (untouched memory costs nothing)
    const boot = tsWorkerSource(path.join(__dirname, 'data-parallel-worker.ts'));
    const handles = Array.from({ length: workers - 1 }, (_, k) => {
      const workerData: WorkerStart = { recipe, backend, slot: k + 1, shared, panels: panels.buffer };
      return new WorkerHandle(new Worker(boot, { eval: true, workerData }));
    });
    const group = new DataParallelGroup(trainer, handles, shared, panels);
    sharePanels(trainer.captioner.variables().values(), { panels, version: () => group.weightsVersion });
    try {
      const expected = JSON.stringify(layout);
      for (const handle of handles) {
        const { layout: theirs } = await handle.next('ready');
        if (JSON.stringify(theirs) !== expected) throw new Error(`data-parallel worker built a different model: weights ${JSON.stringify(theirs.map((w) => w.name))}, expected ${JSON.stringify(layout.map((w) => w.name))}`);
      }
      trainer.shareOptimiserState(group.rows.moments, true); // one copy of the moments for all threads: this trainer's
      await group.syncState();
    } catch (error) {
      await group.close();
      throw error;
    }
    return group;
  }

  /** Gives every worker this trainer's weights, optimiser state and counters: a new generation of the group's weights. */
  async syncState(): Promise<void> {
    const snapshot = this.trainer.snapshot();
    const generation = this.panels.mintGeneration();
    for (const handle of this.workers) handle.post({ kind: 'state', snapshot, generation });
    for (const handle of this.workers) await handle.next('synced');
    this.weightsVersion = { generation, updates: 0 };
  }

  /** This thread's weights were replaced (a restore): they are not the workers' until the next sync. */
  weightsReplaced(): void {
    this.weightsVersion = undefined;
  }

  /** One step over all workers: shards, gradients summed, the same update everywhere. Returns the whole batch's loss parts. */
  async trainStep(rows: Int32Array, step: { epoch: number; stepInEpoch: number }, next?: Int32Array): Promise<{ loss: number; crossEntropy: number; attention: number; inputWaitSeconds: number }> {
    const { captions } = this.trainer.train;
    const lengthOf = (r: number) => rowLength(captions, r); // ids, <start> and <end> included
    const shards = splitRows(rows, lengthOf, this.size);
    const nextShards = next ? splitRows(next, lengthOf, this.size) : [];
    // The whole batch's counts: its real tokens (each caption predicts all its ids but <start>) and captions.
    const normalization = { tokens: rows.reduce((n, r) => n + lengthOf(r) - 1, 0), captions: rows.length };
    shards.slice(1).forEach((shard, k) => {
      this.workers[k].post({ kind: 'step', rows: shard, next: nextShards[k + 1] ?? null, epoch: step.epoch, stepInEpoch: step.stepInEpoch, normalization });
    });
    const own = await this.trainer.shardGradients(shards[0], step, { next: nextShards[0], normalization });
    let present = writeGradients(this.layout, own.grads, this.rows.slot(0));
    tf.dispose([...own.grads.values()]);
    const totals = { loss: own.loss, crossEntropy: own.crossEntropy, attention: own.attention, inputWaitSeconds: own.inputWaitSeconds };
    for (let k = 0; k < shards.length - 1; k++) {
      const done = await this.workers[k].next('done');
      totals.loss += done.loss;
      totals.crossEntropy += done.crossEntropy;
      totals.attention += done.attention;
      present = present.map((p, i) => p || done.present[i]);
    }
    const slots = shards.length; // a batch smaller than the group leaves some workers (and their slots) out
    const gradients = this.rows.gradients(slots);
    const range = (k: number) => shareOf(this.total, this.size, k); // thread k's share of the values (this thread: 0)
    const clip = await this.clip(gradients, present, range);
    const { learningRate, encoderLearningRate } = this.trainer.progress;
    const update = this.updates;
    const updated = this.rows.updated(update);
    this.workers.forEach((handle, k) => handle.post({ kind: 'update', update, slots, ...range(k + 1), present, clip, learningRate, encoderLearningRate }));
    this.trainer.applyGradientShare(gradients, range(0), present, updated, clip);
    for (const handle of this.workers) await handle.next('updated'); // every share written (and every worker has read the slots)
    for (const handle of this.workers) handle.post({ kind: 'take', update, present }); // the row is not written again before the update after next
    this.trainer.takeUpdatedWeights(updated, present);
    this.updates += 1;
    if (this.weightsVersion) this.weightsVersion = { ...this.weightsVersion, updates: this.weightsVersion.updates + 1 };
    return totals;
  }

  /** This step's clip (train.clip); by the global norm, from every thread's part of the sum of squares. */
  private async clip(gradients: GradientSlots, present: boolean[], range: (k: number) => { from: number; to: number }): Promise<GradientClip> {
    const setting = this.trainer.clipSetting;
    if (setting.mode !== 'norm') return gradientClip(setting, () => NaN); // no norm needed
    this.workers.forEach((handle, k) => handle.post({ kind: 'norm', slots: gradients.slots, ...range(k + 1), present }));
    let squares = squaresOf(gradients, this.layout, present, range(0));
    for (const handle of this.workers) squares += (await handle.next('normed')).squares;
    return gradientClip(setting, () => Math.sqrt(squares));
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    sharePanels(this.trainer.captioner.variables().values(), null);
    this.trainer.shareOptimiserState(null);
    for (const handle of this.workers) {
      try {
        handle.post({ kind: 'close' });
      } catch {
        // already gone
      }
    }
    await Promise.all(this.workers.map((h) => h.close()));
  }
}
