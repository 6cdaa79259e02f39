/**
 * Ablation studies over finished runs: each study compares arms (settings), each arm has
 * one run per seed, and every number is reported as mean and spread over the seeds.
 *
 *   const arms = [{ study: 'context', arm: 'soft attention', runs: [a1, a2] }, { study: 'context', arm: 'mean feature', runs: [m1] }];
 *   const rows = summariseArms(arms, { 'BLEU-4 (beam 3)': testMetric('BLEU-4', 3) });
 *   rows[0].values['BLEU-4 (beam 3)'];   // { mean, sd, n, values }
 *
 * The spread is the sample standard deviation (n - 1; 0 for one seed, shown as "n=1"), so
 * a reader sees at once which differences are larger than the seed-to-seed noise.
 */
import { meanAndSd } from '../common/statistics';
import type { MetricRecord, Run } from '../tracking';

export interface AblationArm {
  study: string;
  arm: string;
  /** One run per seed. */
  runs: readonly Run[];
}

export interface Spread {
  mean: number;
  /** Sample standard deviation over seeds (0 for one). */
  sd: number;
  n: number;
  values: number[];
}

export interface ArmSummary {
  study: string;
  arm: string;
  values: Record<string, Spread>;
}

/** Reads one number from a finished run (NaN when it has none). */
export type RunReader = (run: Run) => number;

export { meanAndSd } from '../common/statistics';

/** Mean and sample standard deviation of the finite values (a run without the number is left out). */
export function spreadOf(values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v));
  return { ...meanAndSd(finite), n: finite.length, values: finite };
}

/** The epoch record with the lowest teacher-forced validation loss: the epoch that protocol would select; undefined without validation epochs. */
export function lowestLossEpoch(run: Pick<Run, 'history'>): MetricRecord | undefined {
  const epochs = run.history().filter((r) => r.kind === 'epoch' && typeof r.val_loss === 'number');
  return epochs.length === 0 ? undefined : epochs.reduce((a, b) => ((b.val_loss as number) < (a.val_loss as number) ? b : a));
}

/** "0.4512 ± 0.0120 (n=2)". */
export function formatSpread(s: Spread, digits = 4): string {
  if (s.n === 0) return 'n/a';
  return s.n === 1 ? `${s.mean.toFixed(digits)} (n=1)` : `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)} (n=${s.n})`;
}

/** A free-running score of a split from the run's summary (as recorded by training or ensureEvaluation). */
export function testMetric(name: string, beam: number, split: 'val' | 'test' = 'test'): RunReader {
  return (run) => run.summary.metrics.find((m) => m.name === name && m.split === split && m.protocol === 'free-running' && m.beam === beam)?.value ?? NaN;
}

/**
 * A teacher-forced validation value (e.g. 'val_loss', 'val_tf_bleu4') at the epoch of the
 * lowest teacher-forced validation loss: the epoch that protocol would select (the early-
 * stopping epoch is chosen by free-running BLEU-4; see src/analysis/protocols.ts).
 */
export function teacherForcedValue(key: string): RunReader {
  return (run) => {
    const value = lowestLossEpoch(run)?.[key];
    return typeof value === 'number' ? value : NaN;
  };
}

/** A per-epoch value at the run's best epoch by its early-stopping metric. */
export function bestEpochValue(key: string): RunReader {
  return (run) => {
    const epochs = run.history().filter((r) => r.kind === 'epoch');
    const best = run.summary.best?.epoch;
    const record = epochs.find((r) => r.epoch === best) ?? epochs[epochs.length - 1];
    const value = record?.[key];
    return typeof value === 'number' ? value : NaN;
  };
}

/** Every arm's numbers as mean and spread over its seeds. */
export function summariseArms(arms: readonly AblationArm[], readers: Record<string, RunReader>): ArmSummary[] {
  return arms.map((a) => {
    if (a.runs.length === 0) throw new Error(`ablation ${a.study} / ${a.arm}: no runs`);
    return { study: a.study, arm: a.arm, values: Object.fromEntries(Object.entries(readers).map(([name, read]) => [name, spreadOf(a.runs.map(read))])) };
  });
}

/** The summaries as display rows: study, arm, one "mean ± sd (n)" column per number. */
export function summaryRows(summaries: readonly ArmSummary[], digits = 4): Record<string, string>[] {
  return summaries.map((s) => ({ study: s.study, arm: s.arm, ...Object.fromEntries(Object.entries(s.values).map(([k, v]) => [k, formatSpread(v, digits)])) }));
}
