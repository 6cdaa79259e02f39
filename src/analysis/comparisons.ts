/**
 * Comparisons a reviewer accepts (issue #18): each arm against its reference, with both the
 * seed-to-seed spread (mean ± sd over the arm's seeds, n) and the paired bootstrap over test
 * images (run-bootstrap.ts: the difference arm - reference in BLEU-4 and CIDEr-D, pooled over
 * seeds, with its 95 % interval). A difference counts when its interval leaves 0 out.
 *
 *   const rows = await compareArms([{ arm: bertArm, reference: learnedArm }], { beam: 3 });
 *   comparisonRows(rows);   // study, arm, n, BLEU-4, Δ BLEU-4 [95 % CI], CIDEr-D, Δ CIDEr-D [95 % CI], interval excludes 0
 */
import { spreadOf, testMetric, type AblationArm, type Spread } from './ablations';
import { BOOTSTRAP_METRICS, type BootstrapMetric, type PairedDifference } from './bootstrap';
import { formatDifference } from './format';
import { runsBootstrap } from './run-bootstrap';

/** The metrics every comparison reports: the bootstrap's. */
export const COMPARED_METRICS: readonly BootstrapMetric[] = BOOTSTRAP_METRICS;

export interface ComparisonRequest {
  arm: AblationArm;
  /** The arm it is judged against; null for the reference's own row (no difference). */
  reference: AblationArm | null;
  /** The beams compared (default: options.beam; a beam-size study sets both). */
  beam?: number;
  referenceBeam?: number;
}

export interface ArmComparison {
  study: string;
  arm: string;
  /** The free-running test scores of the arm's seeds at its beam. */
  scores: Record<BootstrapMetric, Spread>;
  /** The paired differences against the reference (BLEU-4, CIDEr-D), or null for the reference row. */
  differences: Record<BootstrapMetric, PairedDifference> | null;
}

/** Every comparison: the arm's spread over seeds and, against its reference, the paired bootstrap (1,000 seeded resamples unless told). */
export async function compareArms(requests: readonly ComparisonRequest[], options: { beam?: number; resamples?: number; seed?: number; threads?: number | 'auto' } = {}): Promise<ArmComparison[]> {
  const out: ArmComparison[] = [];
  for (const r of requests) {
    const beam = r.beam ?? options.beam;
    if (beam === undefined) throw new Error(`compareArms: ${r.arm.study} / ${r.arm.arm}: say which beam's test scores to compare (options.beam or the request's beam)`);
    const scores = Object.fromEntries(COMPARED_METRICS.map((m) => [m, spreadOf(r.arm.runs.map(testMetric(m, beam)))])) as Record<BootstrapMetric, Spread>;
    let differences: ArmComparison['differences'] = null;
    if (r.reference) {
      const paired = await runsBootstrap(r.arm.runs, r.reference.runs, { beam, referenceBeam: r.referenceBeam ?? beam, resamples: options.resamples, seed: options.seed, threads: options.threads });
      differences = Object.fromEntries(paired.map((d) => [d.metric, d])) as Record<BootstrapMetric, PairedDifference>;
    }
    out.push({ study: r.arm.study, arm: r.arm.arm, scores, differences });
  }
  return out;
}

/** "0.4512 ± 0.0120". */
function meanSd(s: Spread, digits: number): string {
  return s.n === 0 ? 'n/a' : `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}`;
}

/** Display rows, 8 columns: study, arm, n, each metric's mean ± sd and paired difference, and which intervals leave 0 out. */
export function comparisonRows(comparisons: readonly ArmComparison[], digits = 4): Record<string, string>[] {
  return comparisons.map((c) => {
    const row: Record<string, string> = { study: c.study, arm: c.arm, n: String(c.scores['BLEU-4'].n) };
    for (const m of COMPARED_METRICS) {
      row[m] = meanSd(c.scores[m], digits);
      row[`Δ ${m} [95% CI]`] = c.differences ? formatDifference(c.differences[m], digits) : 'reference';
    }
    row['interval excludes 0'] = c.differences ? COMPARED_METRICS.filter((m) => c.differences![m].excludesZero).join(', ') || 'neither' : '';
    return row;
  });
}
