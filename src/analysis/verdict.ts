/**
 * The closing verdict of the reproduction, computed from runs, never written by hand: does
 * the report's BERT gain survive free-running evaluation?
 *
 *   const verdict = bertVerdict({ baseline: rows[0], bert: rows[1] }, { beam: 3, noise: 0.012 });
 *   verdict.survives;    // false when the free-running gain is not above the noise
 *   verdict.statement;   // one paragraph with every number it rests on
 *
 * The rule: the gain survives when the BERT variant's free-running BLEU-4 (test split, the
 * given beam) exceeds the baseline's by more than twice the seed-to-seed standard deviation
 * (measured in the ablation study) — or by more than `minGain` (default 0.01) when no seed
 * spread is known. The report's own gain under its protocol is quoted beside ours.
 */
import { REPORT_NUMBERS } from './paper-reference';
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
  /** Seed-to-seed standard deviation of free-running BLEU-4 (null: unknown). */
  noise: number | null;
  /** The gain a free-running difference must exceed to count. */
  threshold: number;
  survives: boolean;
  statement: string;
}

function reportValue(model: string, metric: string): number {
  const n = REPORT_NUMBERS.find((r) => r.model === model && r.metric === metric);
  if (!n) throw new Error(`report number ${model} / ${metric} is missing from src/analysis/paper-reference.ts`);
  return n.scale === 'x100' ? n.value / 100 : n.value;
}

const signed = (x: number, digits = 4) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

/** The verdict from the two models' protocol rows (src/analysis/protocols.ts). */
export function bertVerdict(rows: { baseline: ProtocolRow; bert: ProtocolRow }, options: { beam?: number; noise?: number | null; minGain?: number } = {}): BertVerdict {
  const beam = options.beam ?? 3;
  const noise = options.noise ?? null;
  const minGain = options.minGain ?? 0.01;
  const free = (row: ProtocolRow) => {
    const v = row.freeRunning[beam]?.['BLEU-4'];
    if (v === undefined || !Number.isFinite(v)) throw new Error(`bertVerdict: run ${row.run} (${row.label}) has no free-running test BLEU-4 with beam ${beam}`);
    return v;
  };
  const { baseline, bert } = rows;
  const teacherForced = { baseline: baseline.teacherForced.bleu4, bert: bert.teacherForced.bleu4, gain: bert.teacherForced.bleu4 - baseline.teacherForced.bleu4 };
  const freeRunning = { baseline: free(baseline), bert: free(bert), gain: free(bert) - free(baseline) };
  const valLoss = { baseline: baseline.teacherForced.loss, bert: bert.teacherForced.loss };
  const report = {
    gain: reportValue('BERT + attention', 'BLEU-4') - reportValue('attention (baseline)', 'BLEU-4'),
    valLoss: { baseline: reportValue('attention (baseline)', 'validation loss'), bert: reportValue('BERT + attention', 'validation loss') },
  };
  const threshold = noise !== null ? Math.max(2 * noise, 0) : minGain;
  const survives = freeRunning.gain > threshold;
  const noiseText = noise !== null ? `twice the seed-to-seed standard deviation of ${noise.toFixed(4)}` : `the ${minGain} we require without a seed spread`;
  const statement =
    `Under the report's protocol (teacher-forced, validation split) the BERT variant scores BLEU-4 ${teacherForced.bert.toFixed(4)} against the baseline's ${teacherForced.baseline.toFixed(4)} ` +
    `(${signed(teacherForced.gain)}; the report: ${signed(report.gain, 3)}) and lowers the validation loss from ${valLoss.baseline.toFixed(3)} to ${valLoss.bert.toFixed(3)} ` +
    `(the report: ${report.valLoss.baseline} to ${report.valLoss.bert}). ` +
    `Free-running on the test split with beam ${beam}, where BERT only sees the words the model has generated, it scores ${freeRunning.bert.toFixed(4)} against ${freeRunning.baseline.toFixed(4)} ` +
    `(${signed(freeRunning.gain)}; threshold ${threshold.toFixed(4)}, ${noiseText}). ` +
    (survives
      ? `The BERT gain survives free-running evaluation.`
      : `The report's BERT gain does not survive free-running evaluation${teacherForced.gain > threshold ? ': it is a property of teacher forcing with bidirectional vectors, which let the decoder read the words it must predict' : ''}.`);
  return { beam, teacherForced, valLoss, freeRunning, report, noise, threshold, survives, statement };
}
