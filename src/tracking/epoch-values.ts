/**
 * An epoch's metric values on their way into the records: checked (numbers only, reserved
 * names refused, non-finite values stored as null), labelled with their protocol for the
 * summary, compared for the best epoch, and an evaluation's files written.
 *
 *   finiteOrNull({ loss: 1.2, val_bleu4: NaN }, 'epoch 3');    // { loss: 1.2, val_bleu4: null }
 *   isBetter('max', 0.41, 0.40);                               // true
 */
import { writeAttention, writeCaptions } from './artifacts';
import type { Evaluation, TrainingJob } from './job';
import { OWN_IMPLEMENTATION, type RunMetric } from './records';

/** Keys of a metrics.jsonl line that the store writes itself. */
const RESERVED_KEYS = new Set(['kind', 'step', 'epoch', 'time']);

export function finiteOrNull(values: Record<string, unknown>, where: string): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [key, value] of Object.entries(values)) {
    if (RESERVED_KEYS.has(key)) throw new Error(`${where}: metric name ${JSON.stringify(key)} is reserved (${[...RESERVED_KEYS].join(', ')})`);
    if (typeof value !== 'number') throw new Error(`${where}: metric ${JSON.stringify(key)} should be a number, got ${JSON.stringify(value)}`);
    out[key] = Number.isFinite(value) ? value : null;
  }
  return out;
}

export function labelledMetrics(job: TrainingJob<unknown>, metrics: Record<string, number | null>, epoch: number): RunMetric[] {
  const out: RunMetric[] = [];
  for (const [key, label] of Object.entries(job.metricLabels ?? {})) {
    const value = metrics[key];
    if (typeof value !== 'number') continue;
    out.push({
      name: label.name,
      value,
      ...(label.split !== undefined ? { split: label.split } : {}),
      ...(label.protocol !== undefined ? { protocol: label.protocol } : {}),
      ...(label.beam !== undefined ? { beam: label.beam } : {}),
      implementation: label.implementation ?? OWN_IMPLEMENTATION,
      epoch,
    });
  }
  return out;
}

export function isBetter(mode: 'min' | 'max', value: number, than: number | undefined): boolean {
  return than === undefined || (mode === 'min' ? value < than : value > than);
}

export async function writeEvaluation(dir: string, evaluation: Evaluation): Promise<string[]> {
  const files: string[] = [];
  for (const [split, captions] of Object.entries(evaluation.captions ?? {})) files.push(await writeCaptions(dir, split, captions));
  for (const [split, maps] of Object.entries(evaluation.attention ?? {})) files.push(...(await writeAttention(dir, split, maps)));
  return files;
}
