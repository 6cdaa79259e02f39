/**
 * The step lines of metrics.jsonl, aggregated so that the file stays bounded at any length of
 * training: `k` consecutive optimiser steps of an epoch make one line, holding the mean of each
 * value over them. At the paper profile (about 17.7k steps an epoch, up to 120 epochs) one line
 * per step would be ~2.1M lines; with the default, 'auto', an epoch has at most about 100 lines.
 *
 *   { "kind": "step", "step": 354, "epoch": 0, "time": 1712…, "steps": 177, "loss": 3.12 }
 *
 * `step` is the global step number of the line's last step, `time` when that step was logged,
 * `steps` how many steps the line stands for (1 for a line per step; absent in files written
 * before aggregation, where it means 1). A value that was not finite in any of a line's steps
 * is null (the mean of a group with a NaN or an infinity is not finite); a key that only some
 * of the steps logged is the mean over those. Groups never span epochs: the partial group at
 * the end of an epoch is written before the epoch record, so a resume that drops the epochs
 * after a checkpoint (resume.ts, trimMetrics) drops whole groups.
 *
 *   const steps = new StepRecords('auto', (r) => write(r));
 *   steps.startEpoch(); steps.setSteps(17_700);           // k = ceil(17700 / 100) = 177
 *   steps.add(step, epoch, { loss: 3.2 });               // … once per step
 *   steps.flush();                                        // before the epoch record
 */
import type { MetricRecord } from './records';

/** How many steps one step line of metrics.jsonl stands for: 'auto' or a fixed count (1 = every step). */
export type StepsPerLine = 'auto' | number;

/** 'auto': at most this many step lines an epoch. */
export const AUTO_LINES_PER_EPOCH = 100;
/** 'auto' for an epoch whose job never declared its step count (`ctx.setSteps`). */
export const FALLBACK_STEPS_PER_LINE = 50;

/** Checks the experiment option (default 'auto'); a bad value throws naming it. */
export function checkStepsPerLine(value: unknown): StepsPerLine {
  if (value === undefined || value === 'auto') return 'auto';
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  throw new Error(`experiment option stepsPerLine should be 'auto' or an integer >= 1 (1: a line per step), got ${JSON.stringify(value)}`);
}

/** The steps per line of an epoch: the fixed count, or for 'auto' ceil(steps / 100) (50 when the count is unknown). */
export function stepsPerLineFor(option: StepsPerLine, stepsInEpoch?: number): number {
  if (option !== 'auto') return option;
  if (stepsInEpoch === undefined || !Number.isFinite(stepsInEpoch) || stepsInEpoch < 1) return FALLBACK_STEPS_PER_LINE;
  return Math.max(1, Math.ceil(stepsInEpoch / AUTO_LINES_PER_EPOCH));
}

interface Group {
  epoch: number;
  count: number;
  lastStep: number;
  lastTime: number;
  /** Per key, in first-logged order: the sum of its finite values, how many steps logged it, and whether one was not finite. */
  sums: Map<string, { sum: number; n: number; nonFinite: boolean }>;
}

/** Aggregates one run's step values into metrics.jsonl step lines (see the module comment). */
export class StepRecords {
  private readonly option: StepsPerLine;
  private k: number;
  private group: Group | undefined;

  constructor(
    option: StepsPerLine | undefined,
    private readonly write: (record: MetricRecord) => void,
  ) {
    this.option = checkStepsPerLine(option);
    this.k = stepsPerLineFor(this.option);
  }

  /** Steps per line now. */
  get stepsPerLine(): number {
    return this.k;
  }

  /** A new epoch: writes what is pending, and forgets the last epoch's step count. */
  startEpoch(): void {
    this.flush();
    this.k = stepsPerLineFor(this.option);
  }

  /** The epoch's step count is known (`ctx.setSteps`): 'auto' sizes its lines from it. */
  setSteps(count: number): void {
    this.k = stepsPerLineFor(this.option, count);
    if (this.group && this.group.count >= this.k) this.flush();
  }

  /** One step's values (already checked: numbers, null for non-finite ones); writes a line every k steps. */
  add(step: number, epoch: number, values: Record<string, number | null>, time = Date.now()): void {
    if ('steps' in values) throw new Error(`epoch ${epoch + 1}, step ${step}: metric name "steps" is reserved (the steps a metrics.jsonl step line stands for)`);
    if (this.group && this.group.epoch !== epoch) this.flush();
    const group = (this.group ??= { epoch, count: 0, lastStep: step, lastTime: time, sums: new Map() });
    group.count += 1;
    group.lastStep = step;
    group.lastTime = time;
    for (const [key, value] of Object.entries(values)) {
      const s = group.sums.get(key) ?? { sum: 0, n: 0, nonFinite: false };
      if (value === null) s.nonFinite = true;
      else s.sum += value;
      s.n += 1;
      group.sums.set(key, s);
    }
    if (group.count >= this.k) this.flush();
  }

  /** Writes the pending partial group, if any (at the end of an epoch, or when training fails). */
  flush(): void {
    const group = this.group;
    if (!group) return;
    this.group = undefined;
    const record: MetricRecord = { kind: 'step', step: group.lastStep, epoch: group.epoch, time: group.lastTime, steps: group.count };
    for (const [key, s] of group.sums) {
      const mean = s.sum / s.n;
      record[key] = s.nonFinite || !Number.isFinite(mean) ? null : mean;
    }
    this.write(record);
  }
}
