/**
 * Several captioner runs at once, each in its own process: tfjs's wasm and cpu backends use
 * one core per process under Node (FACTS.md §4), so on a CPU machine N processes train N
 * runs in about the time of one. Every process is `captioning train --request … --backend …`
 * through the run store, so finished runs are loaded, interrupted ones resumed, and two
 * processes asking for the same run (or the same BERT pretraining) wait for each other.
 *
 *   const runs = await trainRuns([
 *     { name: 'no-attention', config: lab.notebookConfig(params, 'baseline', { decoder: { context: 'mean' } }) },
 *     { name: 'bert-causal', config: lab.notebookConfig(params, 'bert', { words: { bert: { mode: 'causal' } } }) },
 *   ]);
 *   runs[0].summary.metrics;
 *
 * What a child gets is explicit, not inherited: the whole request (name and resolved config)
 * in a file, and the backend this process chose (a notebook's `device` parameter included).
 * What it sends back travels on Node's IPC channel (`TrainChildMessage`): "prepared" once its
 * inputs are ready, then its run id, or its error. Shared inputs are prepared once: a child
 * whose feature cache or BERT vectors another child is preparing starts only when that one
 * says "prepared" (otherwise both would encode the same images into the same cache). Two
 * requests with the same content (config, epochs, seed) train once; both names are kept.
 *
 * Runs already finished are found first, in this process, from their config and data
 * fingerprints (no features extracted, no BERT vectors computed): rerunning a notebook starts
 * no process. An existing run that cannot be loaded is an error naming it, never retrained.
 * Each child's lines are passed on prefixed with its run name; in a notebook cell they update
 * one display in place (the latest line of each run) instead of growing the cell's log.
 * On a GPU backend one process at a time is the default: they would share the device.
 */
import { fork } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { writeFileAtomic } from '../common/atomic-write';
import { liveDisplay } from '../common/live-display';
import { PROJECT_ROOT } from '../common/project';
import { type BackendKind, initBackend } from '../compute/backend';
import { type CaptionerConfig, identityConfig } from '../config';
import { canonicalJson, findFinishedRun, loadRun, type Run, type RunOrigin } from '../tracking';
import { TRAINING_NODE_FLAGS, WORKERS_ENV } from './data-parallel';
import { runFingerprints } from './setup';

export interface RunRequest {
  /** Readable prefix of the run id. */
  name: string;
  config: CaptionerConfig;
}

/** What `captioning train --request` reads. */
export interface RunRequestFile {
  schema: 'captioning-lab/run-request@1';
  name: string;
  config: CaptionerConfig;
}

/** What a training child sends its parent over the IPC channel. */
export type TrainChildMessage =
  | { kind: 'prepared' }
  | { kind: 'result'; id: string; dir: string; origin: RunOrigin }
  | { kind: 'error'; message: string };

export interface TrainRunsOptions {
  /** Training processes at once (default: the CPU count on wasm/cpu, 1 on a GPU backend). */
  processes?: number;
  /** Where progress lines go (default stdout, or one display updated in place in a notebook cell). */
  log?: (line: string) => void;
}

/**
 * The cores a run starting now gets for its data-parallel workers: the machine's cores
 * divided among the runs that will train beside it (those running, this one, and as many of
 * the `queued` as there are free process slots), at least 1.
 */
export function coresPerRun(cores: number, processes: number, running: number, queued: number): number {
  const alongside = Math.min(processes, running + 1 + queued);
  return Math.max(1, Math.floor(cores / alongside));
}

/** The result a child reported. */
interface ChildResult {
  id: string;
  origin: RunOrigin;
}

/** Runs one `captioning train --request` process; resolves to the run it reported. */
function trainInChild(
  request: RunRequest,
  requestFile: string,
  backend: BackendKind,
  cores: number,
  log: (line: string) => void,
  onPrepared: () => void,
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(PROJECT_ROOT, 'bin', 'captioning.js'), ['train', '--request', requestFile, '--backend', backend], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, [WORKERS_ENV]: String(cores) }, // the cores of this run's data-parallel workers, where its config says 'auto'
      execArgv: [...TRAINING_NODE_FLAGS],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let result: ChildResult | undefined;
    let reported: string | undefined;
    const tail: string[] = [];
    const forward = (chunk: Buffer, keep: boolean) => {
      for (const line of chunk.toString('utf8').split(/\r?\n|\r/)) {
        if (line.trim() === '') continue;
        if (keep) tail.push(line);
        if (tail.length > 20) tail.shift();
        log(`[${request.name}] ${line}`);
      }
    };
    child.stdout!.on('data', (chunk: Buffer) => forward(chunk, false));
    child.stderr!.on('data', (chunk: Buffer) => forward(chunk, true));
    child.on('message', (message: TrainChildMessage) => {
      if (message.kind === 'prepared') onPrepared();
      else if (message.kind === 'result') result = { id: message.id, origin: message.origin };
      else if (message.kind === 'error') reported = message.message;
    });
    child.on('error', (error) => {
      onPrepared();
      reject(error);
    });
    child.on('close', (code, signal) => {
      onPrepared(); // a child that died before preparing its inputs must not hold the others back
      if (code === 0 && result) return resolve(result);
      const how = signal ? `signal ${signal}` : `exit code ${code}${code === 0 ? ', no run reported' : ''}`;
      reject(new Error(`training ${request.name} failed (${how})${reported ? `: ${reported}` : ''}\n${tail.join('\n')}`));
    });
  });
}

/** The caches a request's preparation writes: its features (data + encoder) and its word inputs (data + words). */
function inputKeys(config: CaptionerConfig): string[] {
  return [canonicalJson(['features', config.data, config.encoder]), canonicalJson(['words', config.data, config.words])];
}

/** A request's content: what identifies its run besides the data fingerprints derived from it. */
function contentKey(config: CaptionerConfig): string {
  return canonicalJson({ config: identityConfig(config), epochs: config.train.epochs, seed: config.seed });
}

/** Where lines go: the caller's log, else one display per cell in a notebook, else stdout. */
function progressSink(options: TrainRunsOptions): { log: (line: string) => void; close: () => void } {
  if (options.log) return { log: options.log, close: () => {} };
  const display = liveDisplay();
  if (!display) return { log: (line) => process.stdout.write(line + '\n'), close: () => {} };
  const latest = new Map<string, string>();
  const header: string[] = [];
  const render = () => display.update([...header, ...latest.values()].join('\n'));
  return {
    log: (line) => {
      const run = /^\[([^\]]+)\] /.exec(line)?.[1];
      if (run) latest.set(run, line);
      else header.push(line);
      render();
    },
    close: () => {
      render();
      display.close();
    },
  };
}

/**
 * Trains (or loads) every requested run, `processes` at a time; returns the runs in request
 * order. The cores are shared: a run whose `train.workers` is 'auto' gets the cores divided
 * among the runs training beside it (on 2 cores: 1 run, 2 data-parallel workers; 2 runs, 1 each).
 */
export async function trainRuns(requests: readonly RunRequest[], options: TrainRunsOptions = {}): Promise<Run[]> {
  const backend = await initBackend();
  const processes = options.processes ?? (backend.kind === 'node-gpu' ? 1 : Math.max(1, os.availableParallelism()));
  if (!Number.isInteger(processes) || processes < 1) throw new Error(`trainRuns: processes must be a whole number >= 1, got ${processes}`);
  const names = new Set<string>();
  for (const r of requests) {
    if (names.has(r.name)) throw new Error(`trainRuns: the name ${JSON.stringify(r.name)} is requested twice`);
    names.add(r.name);
  }
  const sink = progressSink(options);
  try {
    const runs: (Run | null)[] = await findFinishedRuns(requests, sink.log);
    // One training per content: the first request of each content trains, the others share its run.
    const firstOf = new Map<string, number>();
    const todo: number[] = [];
    requests.forEach((r, k) => {
      if (runs[k] !== null) return;
      const key = contentKey(r.config);
      if (!firstOf.has(key)) {
        firstOf.set(key, k);
        todo.push(k);
      }
    });
    if (todo.length > 0) await trainInChildren(requests, todo, runs, backend.kind, Math.min(processes, todo.length), sink.log);
    // Requests that shared another's training: the same run, found under their own name (recorded as an alias).
    requests.forEach((r, k) => {
      if (runs[k] !== null) return;
      const trained = runs[firstOf.get(contentKey(r.config))!]!;
      const { config, epochs, seed, fingerprints } = trained.config;
      runs[k] = findFinishedRun({ name: r.name, config, epochs, seed, fingerprints }) ?? trained;
      sink.log(`[${r.name}] the same content as ${trained.config.name}: run ${trained.id}`);
    });
    return runs.map((r) => r!);
  } finally {
    sink.close();
  }
}

async function trainInChildren(
  requests: readonly RunRequest[],
  todo: readonly number[],
  runs: (Run | null)[],
  backend: BackendKind,
  processes: number,
  log: (line: string) => void,
): Promise<void> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'captioning-runs-'));
  /** Per cache key: resolves once the child that prepares it says so. */
  const preparing = new Map<string, Promise<void>>();
  try {
    let next = 0;
    let running = 0;
    const cores = os.availableParallelism();
    const worker = async () => {
      while (next < todo.length) {
        const k = todo[next++];
        const share = coresPerRun(cores, processes, running, todo.length - next);
        const request = requests[k];
        // Claim the caches no child prepares yet (before any await, so two workers never both
        // claim one), then wait for the children preparing the others.
        const keys = inputKeys(request.config);
        const waits = keys.map((key) => preparing.get(key));
        let prepared!: () => void;
        const done = new Promise<void>((resolve) => (prepared = resolve));
        for (const key of keys) if (!preparing.has(key)) preparing.set(key, done);
        await Promise.all(waits);
        const file = path.join(folder, `${k}.json`);
        const body: RunRequestFile = { schema: 'captioning-lab/run-request@1', name: request.name, config: request.config };
        await writeFileAtomic(file, JSON.stringify(body));
        running += 1;
        const result = await trainInChild(request, file, backend, share, log, prepared).finally(() => (running -= 1));
        const run = loadRun(result.id);
        runs[k] = run;
        const { completed, planned, best } = run.summary.epochs;
        log(`[${request.name}] ${result.origin} run ${run.id}: ${completed}/${planned} epochs${best !== undefined ? `, best epoch ${best + 1}` : ''}`);
      }
    };
    log(`training ${todo.length} run(s), ${processes} at a time (${backend})`);
    const results = await Promise.allSettled(Array.from({ length: processes }, worker));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * The requests' finished runs (null where none): fingerprints are computed once per data,
 * encoder and words settings. A request whose fingerprints cannot be computed, or whose
 * existing run folder cannot be loaded, is an error naming it.
 */
export async function findFinishedRuns(requests: readonly RunRequest[], log: (line: string) => void = () => {}): Promise<(Run | null)[]> {
  const known = new Map<string, Promise<Record<string, string> | null>>();
  const found: (Run | null)[] = [];
  for (const { name, config } of requests) {
    const key = canonicalJson([config.data, config.encoder, config.words]);
    if (!known.has(key)) known.set(key, runFingerprints(config));
    let fingerprints: Record<string, string> | null;
    try {
      fingerprints = await known.get(key)!;
    } catch (error) {
      throw new Error(`trainRuns: run request ${JSON.stringify(name)}: cannot read its data to identify its run: ${(error as Error).message}`);
    }
    let run: Run | null = null;
    // null: its identity is not known until its inputs are prepared (the project's BERT is not pretrained yet).
    if (fingerprints) {
      try {
        run = findFinishedRun({ name, config: identityConfig(config), epochs: config.train.epochs, seed: config.seed, fingerprints }) ?? null;
      } catch (error) {
        throw new Error(`trainRuns: run request ${JSON.stringify(name)}: its existing run cannot be loaded: ${(error as Error).message}`);
      }
    }
    if (run) log(`[${name}] loaded run ${run.id}`);
    found.push(run);
  }
  return found;
}
