/**
 * The numbers of the report we reproduce (UMass CS682, 2020; FACTS.md §1), kept apart from
 * ours and labelled with how they were measured: BLEU-4 from teacher-forced validation
 * (argmax at each step given the true previous words) with an NLTK-style BLEU on a 0-100
 * scale, no beam search; validation loss of teacher-forced decoding.
 */
import type { RunMetric } from '../tracking/records';

export const REPORT_SOURCE = 'report (teacher-forced, NLTK-style)';

export interface ReferenceNumber {
  model: string;
  metric: string;
  value: number;
  /** How the value is printed: 'x100' for BLEU in the report. */
  scale: string;
  table: string;
  source: typeof REPORT_SOURCE;
}

export const REPORT_NUMBERS: readonly ReferenceNumber[] = [
  { model: 'attention (baseline)', metric: 'BLEU-4', value: 21.1, scale: 'x100', table: 'Table 1', source: REPORT_SOURCE },
  { model: 'BERT + attention', metric: 'BLEU-4', value: 26.8, scale: 'x100', table: 'Table 1', source: REPORT_SOURCE },
  { model: 'attention (baseline)', metric: 'validation loss', value: 4.5, scale: 'as printed', table: 'Table 2', source: REPORT_SOURCE },
  { model: 'BERT + attention', metric: 'validation loss', value: 2.7, scale: 'as printed', table: 'Table 2', source: REPORT_SOURCE },
];

/** The report's numbers as run metrics on our scales (BLEU 0-1), for bars beside ours. */
export function reportMetrics(): { group: string; metric: RunMetric }[] {
  return REPORT_NUMBERS.map((n) => ({
    group: `report: ${n.model}`,
    metric: {
      name: n.metric === 'BLEU-4' ? 'BLEU-4' : 'loss',
      value: n.scale === 'x100' ? n.value / 100 : n.value,
      split: 'val',
      protocol: 'teacher-forced',
      implementation: n.metric === 'BLEU-4' ? 'nltk' : 'report',
    },
  }));
}
