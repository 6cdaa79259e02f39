/**
 * The closing verdict of the reproduction, computed from runs, never written by hand: does
 * the report's BERT gain survive free-running evaluation?
 *
 *   const [bleu4, cider] = await runsBootstrap(bertRuns, baselineRuns, { beam: 3 });
 *   const verdict = bertVerdict({ baseline: rows[0], bert: rows[1] }, { beam: 3, interval: bleu4, cider });
 *   verdict.survives;    // true only when the free-running interval lies above 0
 *   verdict.statement;   // one paragraph with every number it rests on
 *
 * The rule (fixed in advance): the gain survives when the 95 % paired-bootstrap interval of
 * the free-running test BLEU-4 difference (BERT - baseline, pooled over seeds, resampled over
 * test images: run-bootstrap.ts) lies above 0. The report's own gain under its protocol is
 * quoted beside ours.
 */
import type { PairedDifference } from './bootstrap';
import { signed } from './format';
import { REPORT_NUMBERS, reportNumber } from './paper-reference';
import type { ProtocolRow } from './protocols';

export interface BertVerdict {
  beam: number;
  /** The report's protocol: validation split, teacher-forced, at each run's best epoch. */
  teacherForced: { baseline: number; bert: number; gain: number };
  valLoss: { baseline: number; bert: number };
  /** Free-running on the test split with `beam`. */
  freeRunning: { baseline: number; bert: number; gain: number };
  /** The report's BLEU-4 gain (0-1 scale) and its validation losses. */
  report: { gain: number; valLoss: { baseline: number; bert: number } };
  /** The paired bootstrap of free-running test BLEU-4 (BERT - baseline) the decision reads, and CIDEr-D's when given. */
  interval: PairedDifference;
  cider: PairedDifference | null;
  /** Seeds on each side. */
  seeds: { baseline: number; bert: number };
  survives: boolean;
  statement: string;
}

/** A report number on our scale (BLEU 0-1). */
function reportValue(model: string, metric: string): number {
  const n = REPORT_NUMBERS.find((r) => r.model === model && r.metric === metric);
  return n?.scale === 'x100' ? reportNumber(model, metric) / 100 : reportNumber(model, metric);
}

const interval = (d: PairedDifference, digits = 4) => `${signed(d.difference, digits)}, ${Math.round(d.level * 100)} % interval ${signed(d.low, digits)} to ${signed(d.high, digits)}`;

/** The verdict from the two models' protocol rows (src/analysis/protocols.ts, means over seeds) and the paired bootstrap of their free-running BLEU-4. */
export function bertVerdict(
  rows: { baseline: ProtocolRow; bert: ProtocolRow },
  options: { beam?: number; interval: PairedDifference; cider?: PairedDifference; seeds: { baseline: number; bert: number } },
): BertVerdict {
  const beam = options.beam ?? 3;
  const free = (row: ProtocolRow) => {
    const v = row.freeRunning[beam]?.['BLEU-4'];
    if (v === undefined || !Number.isFinite(v)) throw new Error(`bertVerdict: run ${row.run} (${row.label}) has no free-running test BLEU-4 with beam ${beam}`);
    return v;
  };
  const { baseline, bert } = rows;
  const teacherForced = { baseline: baseline.teacherForced.bleu4, bert: bert.teacherForced.bleu4, gain: bert.teacherForced.bleu4 - baseline.teacherForced.bleu4 };
  const freeRunning = { baseline: free(baseline), bert: free(bert), gain: free(bert) - free(baseline) };
  const bleu4 = options.interval;
  if (bleu4.metric !== 'BLEU-4') throw new Error(`bertVerdict: the interval must be BLEU-4's, not ${bleu4.metric}'s`);
  if (Math.abs(bleu4.difference - freeRunning.gain) > 1e-9) {
    throw new Error(`bertVerdict: the interval's difference ${bleu4.difference} is not the rows' free-running gain ${freeRunning.gain} (other runs, seeds or beam?)`);
  }
  const valLoss = { baseline: baseline.teacherForced.loss, bert: bert.teacherForced.loss };
  const report = {
    gain: reportValue('BERT + attention', 'BLEU-4') - reportValue('attention (baseline)', 'BLEU-4'),
    valLoss: { baseline: reportValue('attention (baseline)', 'validation loss'), bert: reportValue('BERT + attention', 'validation loss') },
  };
  const survives = bleu4.low > 0;
  const cider = options.cider ?? null;
  const seeds = options.seeds;
  const statement =
    `Under the report's protocol (teacher-forced, validation split) the BERT variant scores BLEU-4 ${teacherForced.bert.toFixed(4)} against the baseline's ${teacherForced.baseline.toFixed(4)} ` +
    `(${signed(teacherForced.gain)}; the report: ${signed(report.gain, 3)}) and lowers the validation loss from ${valLoss.baseline.toFixed(3)} to ${valLoss.bert.toFixed(3)} ` +
    `(the report: ${report.valLoss.baseline} to ${report.valLoss.bert}). ` +
    `Free-running on the test split with beam ${beam}, where BERT only sees the words the model has generated, it scores ${freeRunning.bert.toFixed(4)} against ${freeRunning.baseline.toFixed(4)} ` +
    `(means over ${seeds.bert} and ${seeds.baseline} seeds; difference ${interval(bleu4)}, a paired bootstrap over test images with ${bleu4.resamples} resamples` +
    (cider ? `; CIDEr-D ${interval(cider, 3)}` : '') +
    `). ` +
    (survives
      ? `The interval lies above 0: the BERT gain survives free-running evaluation.`
      : `The interval does not lie above 0: the report's BERT gain does not survive free-running evaluation${bleu4.high < 0 && teacherForced.gain > 0 ? '; it is a property of teacher forcing with bidirectional vectors, which let the decoder read the words it must predict' : ''}.`);
  return { beam, teacherForced, valLoss, freeRunning, report, interval: bleu4, cider, seeds, survives, statement };
}
