/**
 * The paired bootstrap (bootstrap.ts) on several threads, for test sets of COCO size: the
 * resamples are cut into one contiguous range per thread, each thread builds its own scorer
 * (the per-image statistics and vectors, once) and computes its range of draws (draw r is the
 * same on any thread: bootstrap.ts `drawSequence`), and the differences are put back in draw
 * order. The numbers are those of `pairedBootstrap`, bit for bit (test/analysis/bootstrap.test.ts).
 *
 *   const [bleu4, cider] = await pairedBootstrapThreads(input, { threads: os.availableParallelism() });
 *
 * `threads: 'auto'` (runsBootstrap's default) uses one thread for small work (the notebooks'
 * 100 test images: starting threads would cost more than it saves) and every core from
 * AUTO_THREADS_MIN_SCORINGS image scorings (images x systems x resamples) up.
 */
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';

import { tsWorkerSource } from '../common/ts-worker';

import {
  bootstrapScorer,
  pairedBootstrap,
  resampleDifferences,
  summariseBootstrap,
  type BootstrapMetric,
  type BootstrapOptions,
  type PairedDifference,
  type PairedInput,
} from './bootstrap';

/**
 * Image scorings (images x systems x resamples) from which 'auto' uses every core: a tenth of
 * `npm run bench`'s bootstrap (1e7 scorings, 75.7 s on one thread here; bench/README.md). Below
 * it the work is seconds, and each thread first compiles the project's TypeScript and builds
 * its own scorer. The notebooks' comparisons (100 images x 6 systems x 1,000) stay below it.
 */
export const AUTO_THREADS_MIN_SCORINGS = 1e6;

/** What a bootstrap thread is started with. */
export interface BootstrapRange {
  input: PairedInput;
  seed: number;
  from: number;
  to: number;
}

/** The threads 'auto' picks for an input (1 below AUTO_THREADS_MIN_SCORINGS). */
export function autoThreads(input: PairedInput, resamples: number): number {
  const scorings = input.references.length * (input.arm.length + input.reference.length) * resamples;
  return scorings < AUTO_THREADS_MIN_SCORINGS ? 1 : os.availableParallelism();
}

/** `[from, to)` ranges of `resamples`, one per thread, as even as whole resamples allow. */
export function resampleRanges(resamples: number, threads: number): [number, number][] {
  const t = Math.max(1, Math.min(threads, resamples));
  return Array.from({ length: t }, (_, k) => [Math.floor((k * resamples) / t), Math.floor(((k + 1) * resamples) / t)]);
}

function rangeOnThread(range: BootstrapRange, started: Worker[]): Promise<Record<BootstrapMetric, Float64Array>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(tsWorkerSource(path.join(__dirname, 'bootstrap-worker.ts')), { eval: true, workerData: range });
    started.push(worker);
    let done = false;
    worker.once('message', (differences: Record<BootstrapMetric, Float64Array>) => {
      done = true;
      resolve(differences);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!done) reject(new Error(`bootstrap thread for resamples ${range.from}-${range.to - 1} exited with code ${code} before answering`));
    });
  });
}

/** The paired bootstrap with its resamples on `threads` threads (this one included); 1 runs `pairedBootstrap` here. */
export async function pairedBootstrapThreads(input: PairedInput, options: BootstrapOptions & { threads?: number | 'auto' } = {}): Promise<PairedDifference[]> {
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? 1;
  const threads = options.threads === undefined || options.threads === 'auto' ? autoThreads(input, resamples) : options.threads;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`pairedBootstrapThreads: threads must be a whole number >= 1 or 'auto', not ${String(threads)}`);
  const ranges = resampleRanges(resamples, threads);
  if (ranges.length === 1) return pairedBootstrap(input, options);
  const scores = bootstrapScorer(input); // checks the input before any thread starts
  const workers: Worker[] = [];
  const others = ranges.slice(1).map(([from, to]) => rangeOnThread({ input, seed, from, to }, workers));
  let parts: Record<BootstrapMetric, Float64Array>[];
  try {
    const own = resampleDifferences(scores, input.references.length, seed, ranges[0][0], ranges[0][1]);
    parts = [own, ...(await Promise.all(others))];
  } catch (error) {
    await Promise.all(workers.map((w) => w.terminate())); // one failed: the others stop too
    throw error;
  }
  const joined = (metric: BootstrapMetric) => {
    const out = new Float64Array(resamples);
    parts.forEach((part, k) => out.set(part[metric], ranges[k][0]));
    return out;
  };
  return summariseBootstrap(scores(null), { 'BLEU-4': joined('BLEU-4'), 'CIDEr-D': joined('CIDEr-D') }, options.level ?? 0.95);
}
