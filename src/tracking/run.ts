/**
 * A run folder as the notebooks see it: its config, status, summary, metric history,
 * checkpoints, captions and attention, read on demand and checked as they are read.
 *
 *   const run = await lab.experiment(job);      // or lab.loadRun('baseline-3f2a9c1b7d0e')
 *   run.summary.metrics                          // [{ name: 'loss', split: 'val', … }]
 *   run.history('epoch')                         // metrics.jsonl epoch lines
 *   const state = await run.restore(job, 'best') // model and optimiser from a checkpoint
 */
import * as fs from 'fs';
import * as path from 'path';

import { readAttention, readCaptions } from './artifacts';
import { CheckpointReader } from './checkpoint-io';
import { listCheckpoints, type CheckpointInfo } from './checkpoints';
import { canonicalJson, type RunIdentity } from './canonical';
import { DamagedRunError } from './errors';
import { readJson, readJsonIfExists, readJsonLines } from './files';
import type { AttentionMap, CaptionResult, RunContext, TrainingJob } from './job';
import { RUN_FILES } from './paths';
import { checkConfig, checkMetricRecord, checkStatus, checkSummary } from './record-checks';
import type { ConfigRecord, MetricRecord, RunMetric, StatusRecord, SummaryRecord } from './records';
import type { RunEnvironment } from './environment';

/** How `experiment` produced the run it returns. */
export type RunOrigin = 'trained' | 'resumed' | 'loaded';

/** A file's version for the history cache: size, mtime and inode ('missing' when absent). */
function fileVersion(file: string): string {
  try {
    const stat = fs.statSync(file);
    return `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}

export class Run {
  /** Set by `experiment`: trained from scratch, resumed from a checkpoint, or loaded. */
  origin: RunOrigin = 'loaded';
  /** Epochs this process trained for it (0 when loaded). */
  epochsTrainedNow = 0;

  constructor(
    readonly id: string,
    readonly dir: string,
  ) {}

  /** metrics.jsonl as last parsed, with the file version it was parsed from. */
  private parsedHistory: { version: string; records: MetricRecord[] } | undefined;

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  /** config.json: identity (config, epochs, seed, fingerprints), name and hash. */
  get config(): ConfigRecord {
    const file = this.file(RUN_FILES.config);
    return checkConfig(file, readJson(file, 'the run config'));
  }

  /** status.json. */
  get status(): StatusRecord {
    const file = this.file(RUN_FILES.status);
    return checkStatus(file, readJson(file, 'the run status'));
  }

  /** summary.json (written when an attempt ends: finished, failed or interrupted). */
  get summary(): SummaryRecord {
    const file = this.file(RUN_FILES.summary);
    return checkSummary(file, readJson(file, 'the run summary'));
  }

  /** Whether summary.json exists (it is written when an attempt ends). */
  hasSummary(): boolean {
    return fs.existsSync(this.file(RUN_FILES.summary));
  }

  /** The summary's metrics, each with its protocol. */
  get metrics(): RunMetric[] {
    return this.summary.metrics;
  }

  /** The first summary metric matching a name and, optionally, split/protocol/beam. */
  metric(name: string, where: Partial<Pick<RunMetric, 'split' | 'protocol' | 'beam' | 'implementation'>> = {}): RunMetric | undefined {
    return this.metrics.find(
      (m) =>
        m.name === name &&
        (where.split === undefined || m.split === where.split) &&
        (where.protocol === undefined || m.protocol === where.protocol) &&
        (where.beam === undefined || m.beam === where.beam) &&
        (where.implementation === undefined || m.implementation === where.implementation),
    );
  }

  /** environment.json of the last attempt. */
  get environment(): RunEnvironment | undefined {
    return readJsonIfExists<RunEnvironment>(this.file(RUN_FILES.environment));
  }

  /**
   * metrics.jsonl, every line checked; `kind` keeps only step or epoch lines. Step lines are
   * aggregated (`steps` steps a line, their means; step-records.ts). Parsed once per Run and
   * kept while the file is unchanged (same size, mtime and inode: a finished run's never
   * changes); the records are shared between calls, so treat them as read-only.
   */
  history(kind?: 'step' | 'epoch'): MetricRecord[] {
    const file = this.file(RUN_FILES.metrics);
    const version = fileVersion(file);
    if (this.parsedHistory?.version !== version) {
      const { records } = readJsonLines(file);
      this.parsedHistory = { version, records: records.map((r, i) => checkMetricRecord(file, r, i + 1)) };
    }
    const all = this.parsedHistory.records;
    return kind ? all.filter((r) => r.kind === kind) : [...all];
  }

  /** Generated captions of a split (COCO result format), or undefined. */
  captions(split: string): CaptionResult[] | undefined {
    return readCaptions(this.dir, split);
  }

  /** Attention maps of a split, or undefined. */
  attention(split: string): AttentionMap[] | undefined {
    return readAttention(this.dir, split);
  }

  /** The complete checkpoints, oldest first; a damaged one throws DamagedRunError. */
  checkpoints(): CheckpointInfo[] {
    return listCheckpoints(this.file(RUN_FILES.checkpoints)).map((c) => c.info);
  }

  /** A reader of the last checkpoint, or of the best one (by the job's `best` metric; the last when none). */
  checkpoint(which: 'last' | 'best' = 'last'): CheckpointReader {
    const all = listCheckpoints(this.file(RUN_FILES.checkpoints));
    if (all.length === 0) throw new Error(`run ${this.id} has no checkpoint in ${this.file(RUN_FILES.checkpoints)}`);
    let chosen = all[all.length - 1];
    const best = chosen.info.best;
    if (which === 'best' && best) chosen = all.find((c) => c.info.epoch === best.epoch + 1) ?? chosen;
    return new CheckpointReader(chosen.dir, chosen.info);
  }

  /** Builds the job's state and loads a checkpoint into it (the job must be this run's). */
  async restore<S>(job: TrainingJob<S>, which: 'last' | 'best' = 'best'): Promise<S> {
    const reader = this.checkpoint(which);
    const identity: RunIdentity = reader.info.identity;
    const ctx: RunContext = {
      runId: this.id,
      dir: this.dir,
      seed: identity.seed,
      epochs: identity.epochs,
      config: identity.config,
      log: (line) => process.stderr.write(line + '\n'),
    };
    if (canonicalJson(job.config) !== canonicalJson(identity.config)) {
      throw new Error(`run ${this.id}: the job's config differs from the one its checkpoint ${reader.info.name} was trained with`);
    }
    const state = await job.init(ctx);
    await job.loadCheckpoint(state, reader, ctx);
    return state;
  }

  /**
   * Reads and checks every record (config, status, summary, metrics, checkpoints, listed
   * files); throws DamagedRunError naming the first bad file.
   */
  validate(): void {
    void this.config;
    void this.status;
    const summary = this.summary;
    this.history();
    this.checkpoints();
    this.checkListedFiles(summary, { parse: true });
    for (const split of new Set((summary.files ?? []).map((f) => /^attention-(.+)\.json$/.exec(f)?.[1]).filter((s): s is string => Boolean(s)))) {
      this.attention(split);
    }
  }

  /**
   * Checks that the files the summary lists (captions, attention) exist, and with `parse`
   * that the JSON ones parse; throws DamagedRunError naming the first bad one. A listing
   * (store.ts) checks existence only: it reads summaries, never histories or artifacts.
   */
  checkListedFiles(summary: SummaryRecord, options: { parse?: boolean } = {}): void {
    for (const name of summary.files ?? []) {
      const file = this.file(name);
      if (!fs.existsSync(file)) throw new DamagedRunError(file, `listed in ${this.file(RUN_FILES.summary)} but missing`);
      if (options.parse && name.endsWith('.json')) readJsonIfExists(file);
    }
  }

  toString(): string {
    return `Run ${this.id} (${this.dir})`;
  }
}
