/**
 * The two evaluation protocols side by side, per finished run: what the report measured
 * (teacher-forced validation loss and "BLEU-4": each step's argmax given the true previous
 * words) and what a captioner does on its own (free-running decoding, greedy or beam search,
 * scored by the COCO caption toolkit on the test split).
 *
 *   const rows = await protocolTable([{ label: 'baseline', run, config }, { label: 'BERT', run: bertRun, config: bertConfig }]);
 *   rows[1].teacherForced.loss;            // at its epoch of lowest teacher-forced validation loss
 *   rows[1].freeRunning[3]['BLEU-4'];      // test, beam 3
 *
 * Each protocol picks its own epoch, as a study using only that protocol would: teacher-forced
 * numbers are those of the epoch with the lowest teacher-forced validation loss (from the
 * run's per-epoch records); free-running ones come from the checkpoint kept by early stopping
 * on free-running validation BLEU-4 (from the summary, decoded first when missing). For a
 * model whose free-running BLEU never improves (BERT over whole captions) the two differ most:
 * early stopping keeps its first epoch while its teacher-forced loss goes on falling.
 */
import type { CaptionerConfig } from '../config';
import type { Run } from '../tracking';
import { lowestLossEpoch, meanAndSd } from './ablations';
import { ensureEvaluation } from '../train/job';

export const TABLE_METRICS = ['BLEU-1', 'BLEU-2', 'BLEU-3', 'BLEU-4', 'ROUGE-L', 'CIDEr-D'] as const;

export interface ProtocolRow {
  label: string;
  run: string;
  /** Epochs trained, and the best one (from 0) by the early-stopping metric (free-running val BLEU-4). */
  epochs: number;
  bestEpoch: number;
  /**
   * The report's protocol on the validation split, at `epoch`: the epoch of the lowest loss
   * (`loss` = `minLoss`). `loss` is the training objective (cross-entropy per word plus alpha_c
   * times the attention term); `crossEntropy` the cross-entropy per word alone, at that epoch.
   */
  teacherForced: { loss: number; crossEntropy: number; bleu4: number; minLoss: number; epoch: number };
  /** Test split, by beam size: BLEU-1..4, ROUGE-L, CIDEr-D (0-1; CIDEr-D x10). */
  freeRunning: Record<number, Record<string, number>>;
}

function numberOf(value: unknown, what: string, run: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`run ${run}: no finite ${what} in its epoch records`);
  return value;
}

/** One row per run: teacher-forced validation numbers and free-running test scores for each beam size. */
export async function protocolTable(
  entries: readonly { label: string; run: Run; config: CaptionerConfig }[],
  options: { beams?: readonly number[]; split?: 'val' | 'test' } = {},
): Promise<ProtocolRow[]> {
  const beams = options.beams ?? [1, 3];
  const split = options.split ?? 'test';
  const rows: ProtocolRow[] = [];
  for (const { label, run, config } of entries) {
    const epochs = run.history().filter((r) => r.kind === 'epoch' && typeof r.val_loss === 'number');
    if (epochs.length === 0) throw new Error(`run ${run.id} (${label}) has no validation epochs`);
    const bestEpoch = run.summary.best?.epoch ?? epochs.length - 1;
    const lowest = lowestLossEpoch(run)!; // there are validation epochs (checked above)
    const freeRunning: Record<number, Record<string, number>> = {};
    for (const beam of beams) {
      const metrics = await ensureEvaluation(run, config, { split, beam });
      freeRunning[beam] = Object.fromEntries(metrics.filter((m) => (TABLE_METRICS as readonly string[]).includes(m.name)).map((m) => [m.name, m.value]));
    }
    rows.push({
      label,
      run: run.id,
      epochs: epochs.length,
      bestEpoch,
      teacherForced: {
        loss: numberOf(lowest.val_loss, 'val_loss', run.id),
        crossEntropy: numberOf(lowest.val_cross_entropy, 'val_cross_entropy', run.id),
        bleu4: numberOf(lowest.val_tf_bleu4, 'val_tf_bleu4', run.id),
        minLoss: numberOf(lowest.val_loss, 'val_loss', run.id),
        epoch: lowest.epoch,
      },
      freeRunning,
    });
  }
  return rows;
}

/** The rows as a flat table for display (one column per number, 4 decimals). */
export function protocolTableRows(rows: readonly ProtocolRow[], options: { beams?: readonly number[]; metrics?: readonly string[] } = {}): Record<string, string | number>[] {
  const beams = options.beams ?? [...new Set(rows.flatMap((r) => Object.keys(r.freeRunning).map(Number)))];
  const metrics = options.metrics ?? ['BLEU-4'];
  return rows.map((r) => {
    const out: Record<string, string | number> = {
      model: r.label,
      'teacher-forced val loss (objective)': r.teacherForced.loss.toFixed(4),
      'teacher-forced val cross-entropy': r.teacherForced.crossEntropy.toFixed(4),
      'teacher-forced val BLEU-4': r.teacherForced.bleu4.toFixed(4),
    };
    for (const beam of beams) for (const m of metrics) out[`free-running ${m}, ${beam === 1 ? 'greedy' : `beam ${beam}`}`] = (r.freeRunning[beam]?.[m] ?? NaN).toFixed(4);
    return out;
  });
}

/** Several seeds of one model as one row of means, with the seed-to-seed standard deviation of each number. */
export function averageRows(label: string, rows: readonly ProtocolRow[]): { row: ProtocolRow; sd: ProtocolRow; seeds: number } {
  if (rows.length === 0) throw new Error(`averageRows ${label}: no rows`);
  const pick = (f: (r: ProtocolRow) => number) => meanAndSd(rows.map(f));
  const beams = Object.keys(rows[0].freeRunning).map(Number);
  const make = (which: 'mean' | 'sd'): ProtocolRow => ({
    label,
    run: rows.map((r) => r.run).join(' + '),
    epochs: pick((r) => r.epochs)[which],
    bestEpoch: pick((r) => r.bestEpoch)[which],
    teacherForced: {
      loss: pick((r) => r.teacherForced.loss)[which],
      crossEntropy: pick((r) => r.teacherForced.crossEntropy)[which],
      bleu4: pick((r) => r.teacherForced.bleu4)[which],
      minLoss: pick((r) => r.teacherForced.minLoss)[which],
      epoch: pick((r) => r.teacherForced.epoch)[which],
    },
    freeRunning: Object.fromEntries(
      beams.map((beam) => [beam, Object.fromEntries(Object.keys(rows[0].freeRunning[beam]).map((m) => [m, pick((r) => r.freeRunning[beam]?.[m] ?? NaN)[which]]))]),
    ),
  });
  return { row: make('mean'), sd: make('sd'), seeds: rows.length };
}
