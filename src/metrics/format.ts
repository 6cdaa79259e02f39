/**
 * Plain-text table of caption scores, for the command line and notebooks.
 *
 *   metric   value   split  protocol      beam  implementation
 *   BLEU-1   0.7071  test   free-running  3     coco-caption
 *   ...
 *   METEOR   n/a     test   free-running  3     coco-caption  (METEOR needs Java and ...)
 *
 * Values have 4 decimals on their own scale (0-1, CIDEr-D x10 as the toolkit reports it;
 * the toolkit itself prints 3). A subset evaluation adds a line saying so.
 */
import { isMetricScore, type CaptionScores, type MetricEntry } from './scorer';

export interface FormatOptions {
  /** Decimals of the values (default 4). */
  decimals?: number;
}

/** The table as text, one line per metric, ending with a newline. */
export function formatScoresTable(
  scores: CaptionScores | readonly MetricEntry[],
  options: FormatOptions = {},
): string {
  const decimals = options.decimals ?? 4;
  const entries = Array.isArray(scores) ? (scores as readonly MetricEntry[]) : (scores as CaptionScores).metrics;
  const header = ['metric', 'value', 'split', 'protocol', 'beam', 'implementation'];
  const rows = entries.map((m) => [
    m.name,
    isMetricScore(m) ? (Number.isFinite(m.value) ? m.value.toFixed(decimals) : String(m.value)) : 'n/a',
    m.split ?? '-',
    m.protocol ?? '-',
    m.beam === undefined ? '-' : String(m.beam),
    m.implementation,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]): string => cells.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  const lines = [line(header)];
  entries.forEach((m, i) => {
    const text = line(rows[i]);
    lines.push(isMetricScore(m) ? text : `${text}  (${m.reason})`);
  });
  if (!Array.isArray(scores)) {
    const s = scores as CaptionScores;
    if (s.subset) lines.push(`subset: ${s.subset.evaluated} of ${s.subset.of} images scored`);
  }
  return `${lines.join('\n')}\n`;
}
