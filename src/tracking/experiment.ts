/**
 * `experiment(job)`: the run store's one entry point for training (DESIGN.md, "Runs and
 * caching"). It returns the run of the job's config, and trains only what is not known yet:
 *
 * - finished run with this content: loaded, checked, returned (no training; `force` retrains).
 *   Identity is the content (config, epochs, seed, data fingerprints), not the name: the
 *   folder is named `<first name>-<hash of the content>`, and the same content asked for
 *   under another name is the same run (that name is recorded in config.json's `aliases`);
 * - interrupted run (status `interrupted`, or `running` with no live lock owner), or a
 *   failed one: resumed from its last checkpoint (a failed one is retried, saying so);
 *   metrics.jsonl lines after that checkpoint are dropped, as the epochs are trained again;
 * - otherwise: trained from scratch.
 *
 * One process trains a run at a time (lock.ts): another process asking for the same run
 * waits for the lock and then loads the finished run (`onBusy: 'fail'` throws RunBusyError
 * instead). In one process, concurrent calls for one run share one training.
 *
 * Every epoch ends with a checkpoint. Training ends when the planned epochs are reached, when
 * the job stops early (`ctx.stopEarly`: the loop ends there, so no record or checkpoint exists
 * past the last trained epoch), or on SIGINT; status.json and the summary say which (`stop`).
 * The store is the one keeper of the best epoch (the job's `best` metric): it keeps that
 * checkpoint, answers the job's `ctx.isImprovement` (for lr decay and early stopping) and
 * loads it for `evaluate` on `ctx.restoreBest()`. The summary's train and validation metrics
 * are the best epoch's, each labelled with its epoch. SIGINT during training stops after the current epoch's
 * checkpoint and marks the run interrupted (RunInterruptedError); a second SIGINT, where
 * nothing else listens for it, marks the run interrupted and exits at once (exit code 130),
 * leaving the last epoch's checkpoint. An error in the job marks the run failed, with the
 * error's message and stack (RunFailedError).
 *
 * Beside it: run-lookup.ts (which folder a content maps to, aliases, loading a finished run),
 * resume.ts (where an attempt starts), epoch-values.ts (checking and labelling an epoch's
 * metrics), step-records.ts (step lines: k steps a line, their means; option `stepsPerLine`),
 * interrupt.ts (SIGINT).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { initBackend, type BackendChoice } from '../compute/backend';
import type { ProgressMode } from '../common/phase-progress';
import { formatDuration } from '../common/progress-text';
import { createProgress } from '../common/run-progress';
import { identityHash, slugify, type RunIdentity } from './canonical';
import { CheckpointReader } from './checkpoint-io';
import { checkpointName, pruneCheckpoints, readCheckpoint, writeCheckpoint } from './checkpoints';
import { runEnvironment } from './environment';
import { finiteOrNull, isBetter, labelledMetrics, writeEvaluation } from './epoch-values';
import { RunFailedError, RunInterruptedError } from './errors';
import { writeJson, writeJsonSync } from './files';
import { InterruptWatch } from './interrupt';
import { epochSeed, type EpochContext, type RunContext, type TrainingJob } from './job';
import { acquireLock, type LockHandle } from './lock';
import { runFolder, RUN_FILES } from './paths';
import type { AttemptRecord, ConfigRecord, ErrorRecord, MetricRecord, RunMetric, StatusRecord, StopRecord, SummaryRecord } from './records';
import { findStart, trimMetrics } from './resume';
import { Run } from './run';
import { checkIdentity, claimRunId, existingRunId, jobIdentity, loadFinished, namesOf, recordAlias } from './run-lookup';
import { checkStepsPerLine, StepRecords, type StepsPerLine } from './step-records';

export interface ExperimentOptions {
  /** Results root (default: $CAPTIONING_RESULTS, else <project>/results). */
  root?: string;
  /** Retrain from scratch even when a finished or resumable run exists. */
  force?: boolean;
  /** When another process trains this run: 'wait' for it then load (default), or 'fail'. */
  onBusy?: 'wait' | 'fail';
  /** Stop waiting after this many milliseconds (RunBusyError). */
  waitTimeoutMs?: number;
  /** Checkpoints kept besides the best one (default 2). */
  keepLast?: number;
  /** The backend record to store (default: initBackend(), the process-wide choice). */
  backend?: BackendChoice;
  /** Where log lines go (default stderr). */
  log?: (line: string) => void;
  /**
   * Progress: 'auto' (one display updated in place in a notebook cell, a bar on a terminal,
   * else lines at least every 30 s; epoch lines always), 'bar', 'lines', 'display', 'none'.
   */
  progress?: ProgressMode;
  /** Catch SIGINT during training to stop at the next checkpoint (default true). */
  handleInterrupt?: boolean;
  /**
   * Steps per metrics.jsonl step line (step-records.ts; not part of the run's identity):
   * 'auto' (default: at most about 100 lines an epoch), or k consecutive steps a line (1: every step).
   */
  stepsPerLine?: StepsPerLine;
}

const inFlight = new Map<string, Promise<Run>>();

/** Trains, resumes or loads the run of `job`; see the module comment. */
export function experiment<S>(job: TrainingJob<S>, options: ExperimentOptions = {}): Promise<Run> {
  const identity = jobIdentity(job);
  const hash = identityHash(identity);
  const id = existingRunId(hash, options.root) ?? claimRunId(hash, `${slugify(job.name)}-${hash}`, options.root);
  const dir = runFolder(id, options.root);
  const running = inFlight.get(dir);
  if (running) {
    // The same content under another name, asked for while this process trains it: one training, both names kept.
    return running.then((run) => {
      recordAlias(dir, run.config, job.name);
      return run;
    });
  }
  const work = runExperiment(job, identity, id, dir, options).finally(() => inFlight.delete(dir));
  inFlight.set(dir, work);
  return work;
}

function defaultLog(line: string): void {
  process.stderr.write(line + '\n');
}

function errorRecord(error: unknown, epoch?: number): ErrorRecord {
  const e = error instanceof Error ? error : new Error(String(error));
  return { message: e.message, ...(e.stack ? { stack: e.stack } : {}), ...(epoch !== undefined ? { epoch } : {}) };
}

async function runExperiment<S>(job: TrainingJob<S>, identity: RunIdentity, id: string, dir: string, options: ExperimentOptions): Promise<Run> {
  const log = options.log ?? defaultLog;
  checkStepsPerLine(options.stepsPerLine);
  if (!options.force) {
    const loaded = loadFinished(id, dir, identity, job.name, log);
    if (loaded) return loaded;
  }
  await fs.promises.mkdir(dir, { recursive: true });
  const lock = await acquireLock(path.join(dir, RUN_FILES.lock), id, { onBusy: options.onBusy, timeoutMs: options.waitTimeoutMs, log });
  try {
    if (!options.force) {
      // Another process may have finished it while we waited for the lock.
      const loaded = loadFinished(id, dir, identity, job.name, log);
      if (loaded) return loaded;
    }
    return await train(job, identity, id, dir, lock, options, log);
  } finally {
    lock.release();
  }
}

async function train<S>(
  job: TrainingJob<S>,
  identity: RunIdentity,
  id: string,
  dir: string,
  lock: LockHandle,
  options: ExperimentOptions,
  log: (line: string) => void,
): Promise<Run> {
  const start = await findStart(dir, identity, options.force ?? false, log, id);
  const files = {
    config: path.join(dir, RUN_FILES.config),
    environment: path.join(dir, RUN_FILES.environment),
    status: path.join(dir, RUN_FILES.status),
    summary: path.join(dir, RUN_FILES.summary),
    metrics: path.join(dir, RUN_FILES.metrics),
    checkpoints: path.join(dir, RUN_FILES.checkpoints),
  };
  const startEpoch = start.checkpoint?.info.epoch ?? 0;
  let step = start.checkpoint?.info.step ?? 0;
  let best = start.checkpoint?.info.best;
  let lastMetrics: Record<string, number | null> | undefined = start.checkpoint?.info.metrics;
  /** Every trained epoch's metrics by index (the summary reads the best epoch's). */
  const epochMetrics = start.checkpoint ? await trimMetrics(files.metrics, startEpoch, log) : new Map<number, Record<string, number | null>>();
  /** Set when training has ended: a checkpoint of an early-stopped run says so, and a resume trains no further. */
  let stop: StopRecord | undefined = start.checkpoint?.info.stop;

  const backend = options.backend ?? (await initBackend());
  const previousRecord = start.checkpoint ? checkIdentity(dir, identity) : undefined;
  const firstName = previousRecord?.name ?? job.name;
  const configRecord: ConfigRecord = {
    id,
    name: firstName,
    hash: identityHash(identity),
    ...identity,
    aliases: [...new Set([...(previousRecord ? namesOf(previousRecord) : [firstName]), job.name])],
  };
  await writeJson(files.config, configRecord);
  const environment = runEnvironment(backend, identity.seed, job.execution);
  await writeJson(files.environment, environment);

  const attempt: AttemptRecord = {
    attempt: (start.previous?.attempts.length ?? 0) + 1,
    status: 'running',
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
    startEpoch,
    epochsTrained: 0,
    trainingSeconds: 0,
    reason: start.reason,
  };
  const status: StatusRecord = {
    schema: 'captioning-lab/status@1',
    id,
    status: 'running',
    updatedAt: attempt.startedAt,
    epochsCompleted: startEpoch,
    epochsPlanned: identity.epochs,
    attempts: [...(start.previous?.attempts ?? []), attempt],
  };
  const saveStatus = async () => {
    status.updatedAt = new Date().toISOString();
    await writeJson(files.status, status);
  };
  await saveStatus();

  const ctx: RunContext = { runId: id, dir, seed: identity.seed, epochs: identity.epochs, config: identity.config, log };
  const progress = createProgress({ runId: id, epochs: identity.epochs, startEpoch, mode: options.progress, log });
  const metricsFd = fs.openSync(files.metrics, 'a');
  const writeRecord = (record: MetricRecord) => fs.writeSync(metricsFd, JSON.stringify(record) + '\n');
  const stepRecords = new StepRecords(options.stepsPerLine, writeRecord);
  const watch = new InterruptWatch(
    () => log(`[captioning-lab] run ${id}: interrupt received; stopping after this epoch's checkpoint (interrupt again to stop now)`),
    () => {
      attempt.status = 'interrupted';
      attempt.endedAt = new Date().toISOString();
      status.status = 'interrupted';
      status.stop = { reason: 'interrupted', epochs: status.epochsCompleted };
      status.updatedAt = attempt.endedAt;
      writeJsonSync(files.status, status);
      lock.release();
      log(`[captioning-lab] run ${id}: stopped; rerun to resume from its last checkpoint`);
    },
  );
  if (options.handleInterrupt ?? true) watch.install();

  let state: S | undefined;
  let epoch = startEpoch;
  const trainingStarted = Date.now();
  const previousSeconds = (start.previous?.attempts ?? []).reduce((s, a) => s + (a.trainingSeconds ?? 0), 0);
  /** The train and validation metrics of the best epoch (the last trained one when the job picks no best), labelled with it. */
  const epochSummaryMetrics = (): RunMetric[] => {
    const chosen = best?.epoch ?? status.epochsCompleted - 1;
    const values = epochMetrics.get(chosen);
    return values ? labelledMetrics(job, values, chosen) : [];
  };
  const summaryOf = (statusValue: SummaryRecord['status'], metrics: RunMetric[], evalFiles: string[], error?: ErrorRecord): SummaryRecord => ({
    schema: 'captioning-lab/summary@1',
    id,
    name: firstName,
    status: statusValue,
    config: identity.config,
    backend: backend.kind,
    metrics,
    epochs: { planned: identity.epochs, completed: status.epochsCompleted, ...(best ? { best: best.epoch } : {}) },
    ...(stop ? { stop } : {}),
    seed: identity.seed,
    fingerprints: identity.fingerprints,
    ...(lastMetrics ? { final: lastMetrics } : {}),
    ...(best ? { best } : {}),
    files: evalFiles,
    git: environment.git,
    startedAt: status.attempts[0].startedAt,
    updatedAt: new Date().toISOString(),
    trainingSeconds: previousSeconds + attempt.trainingSeconds,
    ...(error ? { error } : {}),
  });

  let phase = 'while building the job state (init)';
  try {
    if (startEpoch === 0) log(`[captioning-lab] run ${id}: training ${identity.epochs} epoch(s) in ${dir} (backend ${backend.kind})`);
    state = await job.init(ctx);
    if (start.checkpoint) {
      phase = `while loading checkpoint ${start.checkpoint.info.name}`;
      await job.loadCheckpoint(state, new CheckpointReader(start.checkpoint.dir, start.checkpoint.info), ctx);
    }

    if (stop) log(`[captioning-lab] run ${id}: training ended after epoch ${stop.epochs} (${stop.reason}${stop.detail ? `: ${stop.detail}` : ''}); evaluating`);
    for (epoch = startEpoch; epoch < identity.epochs && !stop; epoch++) {
      phase = `in epoch ${epoch + 1}`;
      const epochStarted = Date.now();
      let stepInEpoch = 0;
      let stopDetail: string | undefined;
      let note: string | undefined;
      progress.epochStart(epoch);
      stepRecords.startEpoch();
      const epochIndex = epoch;
      const epochCtx: EpochContext = {
        ...ctx,
        epoch: epochIndex,
        stepsBefore: step,
        epochSeed: epochSeed(identity.seed, epochIndex),
        setSteps: (count) => {
          stepRecords.setSteps(count);
          progress.setSteps(count);
        },
        logStep: (values) => {
          const clean = finiteOrNull(values, `epoch ${epochIndex + 1}, step ${step + 1}`);
          step += 1;
          stepInEpoch += 1;
          stepRecords.add(step, epochIndex, clean);
          progress.step(stepInEpoch, values);
          return step;
        },
        get interruptRequested() {
          return watch.requested;
        },
        stopEarly: (detail) => {
          stopDetail = detail;
        },
        note: (text) => {
          note = text;
        },
        isImprovement: (value) => !job.best || isBetter(job.best.mode, value, best?.value),
      };
      const metrics = finiteOrNull(await job.epoch(state, epochCtx), `epoch ${epoch + 1} of run ${id}`);
      stepRecords.flush(); // the epoch's last, partial step line comes before its epoch record
      writeRecord({ kind: 'epoch', step, epoch, time: Date.now(), ...metrics });
      lastMetrics = metrics;
      epochMetrics.set(epoch, metrics);
      if (job.best) {
        const value = metrics[job.best.metric];
        if (typeof value !== 'number') {
          throw new Error(`epoch ${epoch + 1} of run ${id}: the best-epoch metric ${JSON.stringify(job.best.metric)} is ${value === null ? 'not finite' : 'missing'} (got ${Object.keys(metrics).join(', ') || 'no metrics'})`);
        }
        if (isBetter(job.best.mode, value, best?.value)) best = { ...job.best, value, epoch };
      }
      const stopHere: StopRecord | undefined = stopDetail !== undefined ? { reason: 'early-stop', epochs: epoch + 1, detail: stopDetail } : undefined;
      const trainedState = state;
      await writeCheckpoint(
        files.checkpoints,
        { runId: id, epoch: epoch + 1, step, identity, metrics, ...(best ? { best } : {}), ...(stopHere ? { stop: stopHere } : {}) },
        (writer) => job.saveCheckpoint(trainedState, writer, ctx),
      );
      await pruneCheckpoints(files.checkpoints, options.keepLast ?? 2, best ? checkpointName(best.epoch + 1) : undefined);
      const seconds = (Date.now() - epochStarted) / 1000;
      attempt.epochsTrained += 1;
      attempt.trainingSeconds += seconds;
      status.epochsCompleted = epoch + 1;
      await saveStatus();
      const marks = [best?.epoch === epoch ? 'best so far' : '', stopHere ? 'early stop' : '', note ?? ''].filter(Boolean).join('; ');
      progress.epochEnd(epoch, metrics, seconds, marks || undefined);
      if (stopHere) {
        stop = stopHere;
        log(`[captioning-lab] run ${id}: early stop after epoch ${epoch + 1} of ${identity.epochs} (${stopHere.detail}); best epoch ${best ? best.epoch + 1 : '?'}`);
      } else if (watch.requested && epoch + 1 < identity.epochs) {
        attempt.status = 'interrupted';
        attempt.endedAt = new Date().toISOString();
        status.status = 'interrupted';
        status.stop = { reason: 'interrupted', epochs: epoch + 1 };
        await saveStatus();
        await writeJson(files.summary, { ...summaryOf('interrupted', epochSummaryMetrics(), []), stop: status.stop });
        throw new RunInterruptedError(id, epoch + 1, dir);
      }
    }
    stop ??= { reason: 'planned', epochs: status.epochsCompleted };
    status.stop = stop;

    phase = 'while evaluating';
    const evaluatedState = state;
    const evaluation = job.evaluate
      ? await job.evaluate(evaluatedState, {
          ...ctx,
          restoreBest: async () => {
            // The state holds the last trained epoch (or the checkpoint resumed from); load the best when it is another.
            if (!best || best.epoch + 1 === status.epochsCompleted) return;
            const bestDir = path.join(files.checkpoints, checkpointName(best.epoch + 1));
            await job.loadCheckpoint(evaluatedState, new CheckpointReader(bestDir, readCheckpoint(bestDir)), ctx);
          },
        })
      : {};
    const evalFiles = await writeEvaluation(dir, evaluation);
    const metrics = [...epochSummaryMetrics(), ...(evaluation.metrics ?? [])];
    attempt.status = 'finished';
    attempt.endedAt = new Date().toISOString();
    status.status = 'finished';
    delete status.error;
    await writeJson(files.summary, summaryOf('finished', metrics, evalFiles));
    await saveStatus();
    const run = new Run(id, dir);
    run.origin = start.checkpoint ? 'resumed' : 'trained';
    run.epochsTrainedNow = attempt.epochsTrained;
    log(
      `[captioning-lab] run ${id}: finished (${attempt.epochsTrained} epoch(s) trained now in ${formatDuration((Date.now() - trainingStarted) / 1000)}) -> ${dir}`,
    );
    return run;
  } catch (error) {
    if (error instanceof RunInterruptedError) throw error;
    const record = errorRecord(error, phase.startsWith('in epoch') ? epoch : undefined);
    attempt.status = 'failed';
    attempt.endedAt = new Date().toISOString();
    attempt.error = record;
    status.status = 'failed';
    status.error = record;
    await saveStatus();
    await writeJson(files.summary, summaryOf('failed', [], [], record));
    throw new RunFailedError(id, dir, error, phase);
  } finally {
    progress.close?.();
    watch.remove();
    stepRecords.flush(); // a failed epoch's last steps (a retry drops that epoch's lines)
    fs.closeSync(metricsFd);
    if (state !== undefined) job.dispose?.(state);
  }
}
