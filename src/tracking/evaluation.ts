/**
 * Adding an evaluation to a finished run (what `captioning eval RUN --split test --beam 3`
 * does after decoding): its captions and attention files are written into the run folder
 * and its metrics merged into summary.json, replacing any earlier value with the same name
 * and protocol (split, protocol, beam, implementation). Done under the run's lock.
 */
import * as path from 'path';

import { writeAttention, writeCaptions } from './artifacts';
import { writeJson } from './files';
import type { Evaluation } from './job';
import { acquireLock } from './lock';
import { RUN_FILES } from './paths';
import { checkRunMetric } from './record-checks';
import { metricKey, type SummaryRecord } from './records';
import type { Run } from './run';

/** Writes an evaluation into a run; returns the updated summary. */
export async function recordEvaluation(run: Run, evaluation: Evaluation, options: { onBusy?: 'wait' | 'fail'; log?: (line: string) => void } = {}): Promise<SummaryRecord> {
  const summaryFile = path.join(run.dir, RUN_FILES.summary);
  (evaluation.metrics ?? []).forEach((m, i) => checkRunMetric('(evaluation)', m, `metrics[${i}]`));
  const lock = await acquireLock(path.join(run.dir, RUN_FILES.lock), run.id, { onBusy: options.onBusy, log: options.log });
  try {
    const summary = run.summary;
    const files = new Set(summary.files ?? []);
    for (const [split, captions] of Object.entries(evaluation.captions ?? {})) files.add(await writeCaptions(run.dir, split, captions));
    for (const [split, maps] of Object.entries(evaluation.attention ?? {})) for (const f of await writeAttention(run.dir, split, maps)) files.add(f);
    const added = new Map((evaluation.metrics ?? []).map((m) => [metricKey(m), m]));
    const metrics = [...summary.metrics.filter((m) => !added.has(metricKey(m))), ...added.values()];
    const updated: SummaryRecord = { ...summary, metrics, files: [...files].sort(), updatedAt: new Date().toISOString() };
    await writeJson(summaryFile, updated);
    return updated;
  } finally {
    lock.release();
  }
}
