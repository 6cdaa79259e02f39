/**
 * The records of a run folder: status.json, summary.json (the contract that the report, the
 * notebooks and outside tools read; DESIGN.md), metrics.jsonl lines and config.json, and the
 * keys and labels of metrics. Their checks on reading are in record-checks.ts.
 */
import type { JsonValue, RunIdentity } from './canonical';

export const RUN_STATUSES = ['running', 'finished', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The implementation label of numbers computed by this project's own code (losses). */
export const OWN_IMPLEMENTATION = 'captioning-lab';

/**
 * One number of a run with its protocol (DESIGN.md): `{ name: 'BLEU-4', value: 0.31,
 * split: 'test', protocol: 'free-running', beam: 3, implementation: 'coco-caption' }`.
 * Scores from src/metrics (MetricScore) are RunMetrics as they are.
 */
export interface RunMetric {
  name: string;
  value: number;
  split?: string;
  /** 'free-running' | 'teacher-forced' (src/metrics PROTOCOLS), or another stated protocol. */
  protocol?: string;
  beam?: number;
  /** 'coco-caption' for src/metrics scores, 'captioning-lab' for losses, 'nltk', … */
  implementation: string;
  /** The epoch the value belongs to (training metrics). */
  epoch?: number;
  /** Set when only part of a split was scored. */
  subset?: { evaluated: number; of: number };
}

/** How a key of an epoch's metrics becomes a summary metric, e.g. val_loss -> loss on val. */
export interface MetricLabel {
  name: string;
  split?: string;
  protocol?: string;
  beam?: number;
  implementation?: string;
}

/**
 * One line of metrics.jsonl. A step line stands for `steps` consecutive optimiser steps of
 * one epoch (step-records.ts) and holds the mean of each value over them.
 */
export interface MetricRecord {
  kind: 'step' | 'epoch';
  /** Global step (optimiser updates so far, counted from 1) at the time of the record: a step line's last step. */
  step: number;
  /** Epoch index, from 0. */
  epoch: number;
  /** Milliseconds since 1970 (for MLflow's timestamps and rates). */
  time: number;
  /**
   * The values (null stands for a non-finite number); a step line also has `steps`, how many
   * steps its values are the mean of (absent in files written before aggregation: 1).
   */
  [name: string]: number | string | null;
}

export interface ErrorRecord {
  message: string;
  stack?: string;
  /** Epoch index during which it happened, when known. */
  epoch?: number;
}

/** One attempt at training a run (a first run, a resume, a retry). */
export interface AttemptRecord {
  attempt: number;
  status: RunStatus;
  pid: number;
  hostname: string;
  startedAt: string;
  endedAt?: string;
  /** Epochs already done when the attempt started (from a checkpoint), 0 for a fresh start. */
  startEpoch: number;
  /** Epochs trained by this attempt. */
  epochsTrained: number;
  /** Seconds this attempt spent in training epochs. */
  trainingSeconds: number;
  /** Why the attempt started where it did ("resumed from checkpoint epoch-0003 after failure", …). */
  reason: string;
  error?: ErrorRecord;
}

/**
 * Why training ended: the planned epochs were reached, the job stopped early after epoch
 * `epochs` (early stopping: no later epoch is trained, recorded or checkpointed), or SIGINT
 * interrupted it (a rerun resumes).
 */
export interface StopRecord {
  reason: 'planned' | 'early-stop' | 'interrupted';
  /** Epochs trained when it stopped. */
  epochs: number;
  /** The job's words, e.g. "val_bleu4 did not improve for 3 epochs". */
  detail?: string;
}

export const STOP_REASONS: readonly StopRecord['reason'][] = ['planned', 'early-stop', 'interrupted'];

/** status.json. */
export interface StatusRecord {
  schema: 'captioning-lab/status@1';
  id: string;
  status: RunStatus;
  updatedAt: string;
  /** Epochs trained so far (each has one epoch record in metrics.jsonl and a checkpoint). */
  epochsCompleted: number;
  epochsPlanned: number;
  /** Why training ended; absent while it runs. */
  stop?: StopRecord;
  /** The last error, for status 'failed'. */
  error?: ErrorRecord;
  attempts: AttemptRecord[];
}

/**
 * config.json: the identity that was hashed into the id, plus the readable names. The folder
 * is named after the first name that trained it; the same content asked for under another
 * name is the same run, and that name is added to `aliases`.
 */
export interface ConfigRecord extends RunIdentity {
  id: string;
  name: string;
  hash: string;
  /** Every name the run was asked for under, the first one included (older runs: absent). */
  aliases?: string[];
}

/** summary.json: the contract of DESIGN.md, plus provenance. */
export interface SummaryRecord {
  schema: 'captioning-lab/summary@1';
  id: string;
  name: string;
  status: RunStatus;
  config: JsonValue;
  /** The backend kind (node-gpu, node, wasm, cpu); the full choice is in environment.json. */
  backend: string;
  /**
   * Test metrics, and the train and validation metrics of the best epoch (each labelled with
   * its `epoch`): the epoch whose checkpoint the test evaluation decoded from.
   */
  metrics: RunMetric[];
  /** Epochs planned and trained; `best` is the best epoch's index (from 0), when the job picks one. */
  epochs: { planned: number; completed: number; best?: number };
  /** Why training ended. */
  stop?: StopRecord;
  seed: number;
  fingerprints: Record<string, string>;
  /** The last trained epoch's raw metrics (labelled or not). */
  final?: Record<string, number | null>;
  /** The best epoch (index from 0) by the job's chosen metric. */
  best?: { metric: string; mode: 'min' | 'max'; value: number; epoch: number };
  /** Files written by evaluation: captions and attention per split. */
  files: string[];
  git: { commit: string; dirty: boolean | 'unknown' };
  startedAt: string;
  updatedAt: string;
  /** Seconds spent training, summed over attempts. */
  trainingSeconds: number;
  error?: ErrorRecord;
}

/** The summary-metric key of a metric: `BLEU-4|test|free-running|3|coco-caption`. */
export function metricKey(m: Pick<RunMetric, 'name' | 'split' | 'protocol' | 'beam' | 'implementation'>): string {
  return [m.name, m.split ?? '', m.protocol ?? '', m.beam ?? '', m.implementation].join('|');
}

/** A readable label of a metric's protocol: `test, free-running, beam 3` (implementation when not coco-caption). */
export function protocolLabel(m: Pick<RunMetric, 'split' | 'protocol' | 'beam' | 'implementation'>, options: { implementation?: 'always' | 'unless-coco' } = {}): string {
  const parts: string[] = [];
  if (m.split) parts.push(m.split);
  if (m.protocol) parts.push(m.protocol);
  if (m.beam !== undefined) parts.push(`beam ${m.beam}`);
  const show = options.implementation === 'always' || m.implementation !== 'coco-caption';
  if (show && m.implementation) parts.push(m.implementation);
  return parts.join(', ');
}

/** The column name of a metric in comparisons and reports: `BLEU-4 (test, free-running, beam 3)`. */
export function metricColumn(m: Pick<RunMetric, 'name' | 'split' | 'protocol' | 'beam' | 'implementation'>): string {
  const label = protocolLabel(m);
  return label ? `${m.name} (${label})` : m.name;
}
