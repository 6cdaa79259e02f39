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

/** One of the report's numbers as it printed it (BLEU-4 x100); an error naming it when the table lacks it. */
export function reportNumber(model: string, metric: string): number {
  const n = REPORT_NUMBERS.find((r) => r.model === model && r.metric === metric);
  if (!n) throw new Error(`report number ${model} / ${metric} is missing from src/analysis/paper-reference.ts`);
  return n.value;
}

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

/** The paper's settings where ours differ (its text; FACTS.md §1-2), for the report's comparison table. */
export const PAPER_SETTINGS = {
  data: 'MS COCO 2014, images resized to 256 x 256, NLTK-tokenized captions',
  encoder: 'ResNet-101 (ImageNet), last pool and fc removed, a 14 x 14 x 2048 grid',
  bert: 'bert-base-uncased, frozen, last layer (768-d) over the whole ground-truth caption (bidirectional)',
  schedule: 'Adam 4e-4, gradient clip 5, batch 32 (BERT model: batch 1, about 2 % of the captions), embedding 512, attention 512',
  hardware: 'one NVIDIA M40; about 5 h an epoch (baseline) and 7 h (BERT)',
  metric: 'BLEU from teacher-forced validation (argmax given the true previous words), NLTK-style, 0-100, no beam search',
} as const;
