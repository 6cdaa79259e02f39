/**
 * Several captioner runs at once, each in its own process: tfjs's wasm and cpu backends use
 * one core per process under Node (FACTS.md §4), so on a CPU machine N processes train N
 * runs in about the time of one. Every process is `captioning train --config … --name …`
 * through the run store, so finished runs are loaded, interrupted ones resumed, and two
 * processes asking for the same run (or the same BERT pretraining) wait for each other.
 *
 *   const runs = await trainRuns([
 *     { name: 'no-attention', config: lab.notebookConfig(params, 'baseline', { decoder: { context: 'mean' } }) },
 *     { name: 'bert-causal', config: lab.notebookConfig(params, 'bert', { words: { bert: { mode: 'causal' } } }) },
 *   ]);
 *   runs[0].summary.metrics;
 *
 * Each process's lines are passed on prefixed with its run name (one per epoch, with ETA).
 * On a GPU backend one process at a time is the default: they would share the device.
 * Runs already finished are found first, in this process, from their config and data
 * fingerprints (no features extracted, no BERT vectors computed): rerunning a notebook
 * starts no process at all.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { writeFileAtomic } from '../common/atomic-write';
import { PROJECT_ROOT } from '../common/project';
import { initBackend } from '../compute/backend';
import type { CaptionerConfig } from '../model/config';
import { findFinishedRun, loadRun, type Run } from '../tracking';
import { runFingerprints } from './setup';

export interface RunRequest {
  /** Readable prefix of the run id. */
  name: string;
  config: CaptionerConfig;
}

export interface TrainRunsOptions {
  /** Processes at once (default: the CPU count on wasm/cpu, 1 on a GPU backend). */
  workers?: number;
  /** Where progress lines go (default stdout). */
  log?: (line: string) => void;
}

/** Runs one `captioning train` process; resolves to the run id it printed. */
function trainInChild(request: RunRequest, configFile: string, log: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'captioning.js'), 'train', '--config', configFile, '--name', request.name], {
      cwd: PROJECT_ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let id: string | null = null;
    const tail: string[] = [];
    const forward = (chunk: Buffer, keep: boolean) => {
      for (const line of chunk.toString('utf8').split(/\r?\n|\r/)) {
        if (line.trim() === '') continue;
        const printed = /^(trained|resumed|loaded|retrained) run (\S+)$/.exec(line.trim());
        if (printed) id = printed[2];
        if (keep) tail.push(line);
        if (tail.length > 20) tail.shift();
        log(`[${request.name}] ${line}`);
      }
    };
    child.stdout.on('data', (chunk: Buffer) => forward(chunk, false));
    child.stderr.on('data', (chunk: Buffer) => forward(chunk, true));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0 && id) resolve(id);
      else reject(new Error(`training ${request.name} failed (${signal ? `signal ${signal}` : `exit code ${code}`}${code === 0 ? ', no run id printed' : ''}):\n${tail.join('\n')}`));
    });
  });
}

/** Trains (or loads) every requested run, `workers` processes at a time; returns the runs in request order. */
export async function trainRuns(requests: readonly RunRequest[], options: TrainRunsOptions = {}): Promise<Run[]> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const backend = await initBackend();
  const workers = options.workers ?? (backend.kind === 'node-gpu' ? 1 : Math.max(1, os.cpus().length));
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`trainRuns: workers must be a whole number >= 1, got ${workers}`);
  const names = new Set<string>();
  for (const r of requests) {
    if (names.has(r.name)) throw new Error(`trainRuns: the name ${JSON.stringify(r.name)} is requested twice`);
    names.add(r.name);
  }
  const runs: (Run | null)[] = await findFinished(requests, log);
  const todo = requests.map((_, k) => k).filter((k) => runs[k] === null);
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'captioning-runs-'));
  try {
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const k = todo[next++];
        const file = path.join(folder, `${k}.json`);
        await writeFileAtomic(file, JSON.stringify(requests[k].config));
        runs[k] = loadRun(await trainInChild(requests[k], file, log));
      }
    };
    if (todo.length > 0) {
      log(`training ${todo.length} run(s), ${Math.min(workers, todo.length)} at a time (${backend.kind})`);
      const results = await Promise.allSettled(Array.from({ length: Math.min(workers, todo.length) }, worker));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
  return runs.map((r) => r!);
}

/** The requests' finished runs (null where none): fingerprints are computed once per data, encoder and words settings. */
async function findFinished(requests: readonly RunRequest[], log: (line: string) => void): Promise<(Run | null)[]> {
  const known = new Map<string, Promise<Record<string, string> | null>>();
  const found: (Run | null)[] = [];
  for (const { name, config } of requests) {
    const key = JSON.stringify([config.data, config.encoder, config.words]);
    if (!known.has(key)) known.set(key, runFingerprints(config).catch(() => null));
    const fingerprints = await known.get(key)!;
    let run: Run | null = null;
    try {
      if (fingerprints) run = findFinishedRun({ name, config, epochs: config.train.epochs, seed: config.seed, fingerprints }) ?? null;
    } catch {
      // A damaged folder: the training process meets the same error and reports it.
    }
    if (run) log(`[${name}] loaded run ${run.id}`);
    found.push(run);
  }
  return found;
}
