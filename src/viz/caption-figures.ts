/**
 * Figures of generated captions: two (or more) models' captions side by side on the same
 * images (the report's Figures 6-17: successes and failures), and the length and word use of
 * generated captions against the references. Dataset statistics (caption lengths and word
 * frequencies of a dataset, image grids with boxes) are in data-figures.ts; the grid layout
 * used here is its `gridFigure`.
 *
 *   await lab.show(lab.captionComparisonFigure([
 *     { image: await lab.imageDataUri(file), title: 'test 42', references: refs,
 *       captions: [{ model: 'baseline', text: 'a red circle' }, { model: 'bert', text: 'a red square' }] },
 *   ]));
 */
import { tokenizeCaptions } from '../metrics/tokenizer';
import { gridFigure, type GridItem } from './data-figures';
import { imageUri, type ImageInput } from './image-input';
import { bottomLegend } from './legend';
import type { Figure } from './renderer';
import { RUN_COLOURS } from './training-figures';

export interface CaptionComparisonItem {
  image: ImageInput;
  title?: string;
  /** One caption per model, in the same model order for every image. */
  captions: { model: string; text: string; note?: string }[];
  /** Ground-truth captions, shown in grey under the models' (default: none). */
  references?: string[];
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Breaks text at about `width` characters with plotly's <br>. */
function wrapText(text: string, width: number): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.map(escapeHtml).join('<br>   ');
}

/** Images in a grid, each with every model's caption (coloured per model) and the references. */
export function captionComparisonFigure(
  items: readonly CaptionComparisonItem[],
  options: { columns?: number; title?: string; cellWidth?: number; maxReferences?: number } = {},
): Figure {
  if (items.length === 0) throw new Error('no images to compare captions on');
  const models = [...new Set(items.flatMap((i) => i.captions.map((c) => c.model)))];
  const cellWidth = options.cellWidth ?? 300;
  const wrapAt = Math.floor((cellWidth - 16) / 5.8);
  const colourOf = new Map(models.map((m, i) => [m, RUN_COLOURS[i % RUN_COLOURS.length]]));
  const grid: GridItem[] = items.map((item, k) => {
    if (item.captions.length === 0) throw new Error(`image ${k} (${item.title ?? 'untitled'}) has no captions`);
    const { uri, width, height } = imageUri(item.image);
    const lines = item.captions.map(
      (c) => `<b><span style="color:${colourOf.get(c.model)}">${escapeHtml(c.model)}:</span></b> ${wrapText(c.text, wrapAt)}${c.note ? ` <i>(${escapeHtml(c.note)})</i>` : ''}`,
    );
    for (const ref of (item.references ?? []).slice(0, options.maxReferences ?? 2)) {
      lines.push(`<span style="color:#888888">ref: ${wrapText(ref, wrapAt)}</span>`);
    }
    return { uri, width, height, title: item.title, lines };
  });
  return gridFigure(grid, { columns: options.columns ?? 3, cellWidth, title: options.title ?? `Captions side by side: ${models.join(' vs ')}` });
}

/** A named set of captions (a model's outputs, or the references). */
export interface CaptionSet {
  label: string;
  captions: readonly string[];
}

/** Tokens per caption, after the COCO toolkit's PTB tokenization (what BLEU counts). */
export function captionLengths(captions: readonly string[]): number[] {
  return tokenizeCaptions(captions).map((t) => (t === '' ? 0 : t.split(' ').length));
}

/** Share of captions of each length, one bar series per set (e.g. each model and the references). */
export function generatedLengthFigure(sets: readonly CaptionSet[], options: { title?: string } = {}): Figure {
  if (sets.length === 0) throw new Error('no caption sets');
  const lengths = sets.map((s) => captionLengths(s.captions));
  const max = Math.max(0, ...lengths.flat());
  const data = sets.map((s, i) => {
    const counts = new Array(max + 1).fill(0);
    for (const n of lengths[i]) counts[n] += 1;
    const total = Math.max(1, lengths[i].length);
    const mean = lengths[i].reduce((a, b) => a + b, 0) / total;
    return {
      type: 'bar',
      name: `${s.label} (${lengths[i].length} captions, mean ${mean.toFixed(1)})`,
      x: counts.map((_, n) => n),
      y: counts.map((c) => c / total),
      marker: { color: RUN_COLOURS[i % RUN_COLOURS.length] },
    };
  });
  const below = bottomLegend(data.map((d) => String(d.name)), 760);
  return {
    data,
    layout: {
      title: { text: options.title ?? 'Caption length: generated vs references (PTB tokens)' },
      barmode: 'group',
      xaxis: { title: { text: 'tokens per caption' }, dtick: 2 },
      yaxis: { title: { text: 'share of captions' }, tickformat: '.0%' },
      width: 760,
      height: 380 + below.extraHeight,
      legend: below.legend,
      margin: { b: below.margin },
    },
  };
}

/** The `top` commonest words over all sets, with each set's share of its tokens. */
export function wordUseFigure(sets: readonly CaptionSet[], options: { top?: number; title?: string } = {}): Figure {
  if (sets.length === 0) throw new Error('no caption sets');
  const top = options.top ?? 25;
  const counts = sets.map((s) => {
    const m = new Map<string, number>();
    for (const line of tokenizeCaptions(s.captions)) for (const w of line.split(' ').filter(Boolean)) m.set(w, (m.get(w) ?? 0) + 1);
    return m;
  });
  const totals = counts.map((m) => Math.max(1, [...m.values()].reduce((a, b) => a + b, 0)));
  const all = new Map<string, number>();
  counts.forEach((m, i) => m.forEach((c, w) => all.set(w, (all.get(w) ?? 0) + c / totals[i])));
  const words = [...all.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top).map(([w]) => w);
  const data = sets.map((s, i) => ({
    type: 'bar',
    name: `${s.label} (${counts[i].size} distinct words)`,
    x: words,
    y: words.map((w) => (counts[i].get(w) ?? 0) / totals[i]),
    marker: { color: RUN_COLOURS[i % RUN_COLOURS.length] },
  }));
  return {
    data,
    layout: {
      title: { text: options.title ?? `Word use: the ${words.length} commonest words` },
      barmode: 'group',
      xaxis: { tickangle: -60, type: 'category' },
      yaxis: { title: { text: 'share of the set\'s tokens' }, tickformat: '.1%' },
      width: 900,
      height: 420,
      legend: { orientation: 'h', y: 1.1 },
      margin: { b: 110 },
    },
  };
}
