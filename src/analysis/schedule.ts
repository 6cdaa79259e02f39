/**
 * Is a shorter schedule long enough? (issue #18) The ablations train for fewer epochs than the
 * report's models; this measures what that costs, from runs of both schedules with the same
 * config and seeds.
 *
 * - `scheduleCheck`: per seed, the test score of the short run against the full run's, the
 *   share of the full schedule's mean the short one reaches, and whether it clears the bar
 *   (default 90 %). It also says whether each short run repeated the first epochs of its full
 *   run exactly (same validation numbers): the schedule's length changes nothing before its
 *   end, so the short run *is* the full run stopped early.
 * - `keptByLength`: for every schedule length E, the validation score of the checkpoint a run
 *   of E epochs keeps (the best by the run's early-stopping metric among its first E epochs),
 *   read from the full runs' records: the curve behind the choice of E.
 *
 *   const check = scheduleCheck(seeds.map((seed, i) => ({ seed, full: baselineRuns[i], short: referenceRuns[i] })));
 *   check.share;   // the short schedule's mean test BLEU-4 over the full one's
 *   check.meets;   // share >= bar
 */
import type { MetricRecord, Run } from '../tracking';
import { isBetter } from '../tracking/epoch-values';
import { spreadOf, testMetric, type Spread } from './ablations';

export interface SchedulePair {
  seed: number;
  /** The run on the full schedule and the one on the shorter schedule, same config otherwise. */
  full: Run;
  short: Run;
}

export interface ScheduleCheck {
  metric: string;
  beam: number;
  seeds: { seed: number; full: number; short: number; fullEpochs: number; shortEpochs: number; keptFull: number | null; keptShort: number | null; samePath: boolean }[];
  full: Spread;
  short: Spread;
  /** short.mean / full.mean. */
  share: number;
  bar: number;
  meets: boolean;
}

const epochRecords = (run: Run) => run.history('epoch');

/** The early-stopping metric of a run (its summary's `best`), val_bleu4 when it records none. */
function stoppingMetric(run: Run): string {
  return run.summary.best?.metric ?? 'val_bleu4';
}

/** Whether the short run's epochs repeat the full run's first ones: the same value of every numeric validation key. */
function repeatsPath(short: Run, full: Run): boolean {
  const a = epochRecords(short);
  const b = epochRecords(full);
  if (a.length === 0 || a.length > b.length) return false;
  const keys = (r: MetricRecord) => Object.keys(r).filter((k) => k.startsWith('val_'));
  // Epochs without validation numbers say nothing: not a repeated path.
  return a.every((r, i) => keys(r).length > 0 && keys(r).every((k) => r[k] === b[i][k]));
}

/** The short schedule's test score against the full one's, seed by seed (free-running test, `beam`, default BLEU-4 with beam 3). */
export function scheduleCheck(pairs: readonly SchedulePair[], options: { metric?: string; beam?: number; bar?: number } = {}): ScheduleCheck {
  if (pairs.length === 0) throw new Error('scheduleCheck: give at least one seed');
  const metric = options.metric ?? 'BLEU-4';
  const beam = options.beam ?? 3;
  const bar = options.bar ?? 0.9;
  const read = testMetric(metric, beam);
  const seeds = pairs.map(({ seed, full, short }) => {
    const [f, s] = [read(full), read(short)];
    if (!Number.isFinite(f) || !Number.isFinite(s)) throw new Error(`scheduleCheck: seed ${seed}: run ${Number.isFinite(f) ? short.id : full.id} has no free-running test ${metric} with beam ${beam}`);
    return {
      seed,
      full: f,
      short: s,
      fullEpochs: full.summary.epochs.completed,
      shortEpochs: short.summary.epochs.completed,
      keptFull: full.summary.best ? full.summary.best.epoch + 1 : null,
      keptShort: short.summary.best ? short.summary.best.epoch + 1 : null,
      samePath: repeatsPath(short, full),
    };
  });
  const full = spreadOf(seeds.map((s) => s.full));
  const short = spreadOf(seeds.map((s) => s.short));
  const share = short.mean / full.mean;
  return { metric, beam, seeds, full, short, share, bar, meets: share >= bar };
}

/**
 * For each full run, epoch records whose `value` at epoch E is the validation score of the
 * checkpoint an E-epoch run would keep (the first best of the first E epochs, by the run's
 * early-stopping metric and its direction): curves for `groupCurvesFigure(..., { metric: 'value' })`.
 */
export function keptByLength(runs: readonly Run[]): { label: string; records: MetricRecord[] }[] {
  return runs.map((run) => {
    const key = stoppingMetric(run);
    const mode = run.summary.best?.mode ?? 'max';
    let best: number | undefined;
    const records: MetricRecord[] = [];
    for (const r of epochRecords(run)) {
      const v = r[key];
      if (typeof v === 'number' && isBetter(mode, v, best)) best = v;
      if (best !== undefined) records.push({ kind: 'epoch', step: r.step, epoch: r.epoch, time: r.time, value: best });
    }
    return { label: run.id, records };
  });
}
