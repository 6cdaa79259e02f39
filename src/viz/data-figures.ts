/**
 * Figures of datasets (plotly): caption length histograms, captions per image, word
 * frequencies with vocabulary coverage, and grids of images with their captions, where
 * scenes images also get their object boxes, their occluders, and caption words coloured
 * by the object they name.
 *
 *   await lab.show(lab.captionLengthFigure(stats));
 *   await lab.show(await lab.imageGridFigure(dataset, dataset.images.slice(0, 8)));
 *
 * Images are embedded as `data:` URIs in plotly `image` traces (nothing fetched), one
 * subplot per image, boxes as layout shapes in pixel coordinates.
 */
import type { DatasetStatistics } from '../data/check';
import { type CaptionDataset, type DatasetImage, imagePath, SPLITS } from '../data/dataset';
import { imageDataUri } from '../data/images';
import { sceneAnnotations } from '../data/scenes/annotations';
import { vocabularyTokens } from '../data/tokenize';
import type { Vocabulary } from '../data/vocabulary';
import { bottomLegend } from './legend';
import type { Figure } from './renderer';

const SPLIT_COLOURS = { train: '#3b6ea5', val: '#e08a2c', test: '#4f9d5a' } as const;
/** Box colours by object index: distinct from the shapes' own colours and from grey. */
export const OBJECT_BOX_COLOURS = ['#00b7ff', '#ff2bd6', '#111111', '#8c564b', '#17becf'];
const OCCLUDER_COLOUR = '#ffffff';

/** Share of captions of each length, one bar series per split. */
export function captionLengthFigure(stats: DatasetStatistics): Figure {
  const data = SPLITS.filter((split) => stats.splits[split].captions > 0).map((split) => {
    const histogram = stats.lengthHistogram[split];
    const total = histogram.reduce((a, b) => a + b, 0);
    return {
      type: 'bar',
      name: `${split} (${stats.splits[split].captions} captions)`,
      x: histogram.map((_, n) => n),
      y: histogram.map((count) => count / total),
      marker: { color: SPLIT_COLOURS[split] },
    };
  });
  const l = stats.lengths;
  const below = bottomLegend(data.map((d) => String(d.name)), 760);
  return {
    data,
    layout: {
      title: { text: `${stats.name}: caption length (median ${l.p50}, 95th percentile ${l.p95}, max ${l.max} words)` },
      barmode: 'group',
      xaxis: { title: { text: 'words per caption' }, dtick: 2 },
      yaxis: { title: { text: 'share of the split\'s captions' }, tickformat: '.0%' },
      width: 760,
      height: 380 + below.extraHeight,
      legend: below.legend,
      margin: { b: below.margin },
    },
  };
}

/** How many captions images have. */
export function captionsPerImageFigure(stats: DatasetStatistics): Figure {
  const entries = Object.entries(stats.captionsPerImage.histogram)
    .map(([k, v]) => [Number(k), v] as const)
    .sort((a, b) => a[0] - b[0]);
  return {
    data: [{ type: 'bar', x: entries.map(([k]) => String(k)), y: entries.map(([, v]) => v), marker: { color: '#3b6ea5' } }],
    layout: {
      title: { text: `${stats.name}: captions per image (mean ${stats.captionsPerImage.mean.toFixed(2)})` },
      xaxis: { title: { text: 'captions' }, type: 'category' },
      yaxis: { title: { text: 'images' } },
      width: 480,
      height: 320,
    },
  };
}

/**
 * The commonest training words (bars, log scale) and the share of training text covered by
 * the words up to each rank (line, right axis), with the vocabulary's size marked.
 */
export function wordFrequencyFigure(vocab: Vocabulary, options: { top?: number; title?: string } = {}): Figure {
  const top = options.top ?? 40;
  const words = vocab.words.slice(4);
  const counts = vocab.counts.slice(4);
  const total = vocab.report.tokens;
  let running = 0;
  const cumulative = counts.map((c) => (running += c) / total);
  return {
    data: [
      { type: 'bar', name: 'training count', x: words.slice(0, top), y: counts.slice(0, top), marker: { color: '#3b6ea5' } },
      {
        type: 'scatter',
        mode: 'lines+markers',
        name: 'training text covered by words up to this rank',
        x: words.slice(0, top),
        y: cumulative.slice(0, top),
        yaxis: 'y2',
        line: { color: '#e08a2c' },
        marker: { size: 4 },
      },
    ],
    layout: {
      title: {
        text:
          options.title ??
          `Word frequencies (train): ${vocab.report.keptWords} of ${vocab.report.distinctWords} words at min count ${vocab.options.minCount}, ` +
            `covering ${(100 * vocab.report.coverage).toFixed(1)}% of the text`,
      },
      xaxis: { tickangle: -60, type: 'category' },
      yaxis: { title: { text: 'count' }, type: 'log' },
      yaxis2: { title: { text: 'coverage' }, overlaying: 'y', side: 'right', range: [0, 1], tickformat: '.0%' },
      width: 900,
      height: 420,
      legend: { orientation: 'h', y: 1.08 },
      margin: { b: 110 },
    },
  };
}

/** One cell of an image grid. */
export interface GridItem {
  uri: string;
  /** Pixel size of the embedded image. */
  width: number;
  height: number;
  title?: string;
  /** Lines under the image; plotly's HTML subset is allowed (spans with colours). */
  lines: string[];
  /** Boxes in the embedded image's pixels: [x, y, width, height]. */
  boxes?: { box: readonly number[]; colour: string; label?: string; dash?: string }[];
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Breaks a line of words (HTML allowed inside words) at about `width` visible characters. */
function wrap(words: string[], visible: number[], width: number): string {
  const lines: string[] = [];
  let line: string[] = [];
  let length = 0;
  words.forEach((word, i) => {
    if (line.length > 0 && length + 1 + visible[i] > width) {
      lines.push(line.join(' '));
      line = [];
      length = 0;
    }
    line.push(word);
    length += (line.length > 1 ? 1 : 0) + visible[i];
  });
  if (line.length > 0) lines.push(line.join(' '));
  return lines.join('<br>   ');
}

/** A grid of images with captions and boxes, one subplot per image. */
export function gridFigure(items: GridItem[], options: { columns?: number; cellWidth?: number; imageSide?: number; title?: string } = {}): Figure {
  const columns = Math.min(options.columns ?? 4, Math.max(1, items.length));
  const cellWidth = options.cellWidth ?? 290;
  const imageSide = options.imageSide ?? 170;
  const lineHeight = 13;
  const textLines = Math.max(...items.map((item) => item.lines.reduce((n, line) => n + line.split('<br>').length, 0)), 0);
  const titleHeight = 18;
  const cellHeight = titleHeight + imageSide + 8 + textLines * lineHeight + 14;
  const rows = Math.ceil(items.length / columns);
  const top = options.title ? 50 : 10;
  // Positions are computed in pixels of the plot area (inside the margins), then turned
  // into the fractions plotly's domains and 'paper' coordinates use.
  const plotWidth = columns * cellWidth;
  const plotHeight = rows * cellHeight;
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    width: plotWidth + 20,
    height: plotHeight + top + 10,
    margin: { l: 10, r: 10, t: top, b: 10 },
    showlegend: false,
    plot_bgcolor: '#ffffff',
    paper_bgcolor: '#ffffff',
    ...(options.title ? { title: { text: options.title } } : {}),
  };
  const fx = (px: number) => px / plotWidth;
  const fy = (px: number) => 1 - px / plotHeight;
  const shapes: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  items.forEach((item, k) => {
    const axis = k === 0 ? '' : String(k + 1);
    const col = k % columns;
    const row = Math.floor(k / columns);
    const scale = imageSide / Math.max(item.width, item.height);
    const w = item.width * scale;
    const h = item.height * scale;
    const cellLeft = col * cellWidth;
    const cellTop = row * cellHeight;
    const left = cellLeft + (cellWidth - w) / 2;
    const imageTop = cellTop + titleHeight;
    data.push({ type: 'image', source: item.uri, xaxis: `x${axis}`, yaxis: `y${axis}`, hoverinfo: 'skip' });
    layout[`xaxis${axis}`] = { domain: [fx(left), fx(left + w)], range: [-0.5, item.width - 0.5], visible: false, fixedrange: true, anchor: `y${axis}` };
    layout[`yaxis${axis}`] = { domain: [fy(imageTop + h), fy(imageTop)], range: [item.height - 0.5, -0.5], visible: false, fixedrange: true, anchor: `x${axis}` };
    for (const box of item.boxes ?? []) {
      const [bx, by, bw, bh] = box.box;
      shapes.push({
        type: 'rect',
        xref: `x${axis}`,
        yref: `y${axis}`,
        x0: bx - 0.5,
        y0: by - 0.5,
        x1: bx + bw - 0.5,
        y1: by + bh - 0.5,
        line: { color: box.colour, width: 2, dash: box.dash ?? 'solid' },
      });
      if (box.label) {
        annotations.push({
          xref: `x${axis}`,
          yref: `y${axis}`,
          x: bx - 0.5,
          y: by - 0.5,
          xanchor: 'left',
          yanchor: 'bottom',
          text: box.label,
          showarrow: false,
          font: { size: 10, color: '#ffffff' },
          bgcolor: box.colour,
          borderpad: 1,
        });
      }
    }
    if (item.title) {
      annotations.push({
        xref: 'paper',
        yref: 'paper',
        x: fx(cellLeft + cellWidth / 2),
        y: fy(cellTop),
        xanchor: 'center',
        yanchor: 'top',
        text: item.title,
        showarrow: false,
        font: { size: 11, color: '#444444' },
      });
    }
    annotations.push({
      xref: 'paper',
      yref: 'paper',
      x: fx(cellLeft + 6),
      y: fy(imageTop + h + 6),
      xanchor: 'left',
      yanchor: 'top',
      align: 'left',
      text: item.lines.join('<br>'),
      showarrow: false,
      font: { size: 10, color: '#222222' },
    });
  });
  layout.shapes = shapes;
  layout.annotations = annotations;
  return { data, layout };
}

/**
 * Caption lines of a dataset image, from the raw text; in scenes captions the words that
 * name an object are coloured like its box (raw words are matched to token positions by
 * tokenizing them one by one).
 */
function captionLines(image: DatasetImage, wrapAt: number): string[] {
  const truth = sceneAnnotations(image);
  return image.captions.map((caption, j) => {
    const colourOf = new Map<number, string>();
    for (const mention of truth?.mentions[j] ?? []) {
      for (const t of mention.tokens) colourOf.set(t, OBJECT_BOX_COLOURS[mention.object % OBJECT_BOX_COLOURS.length]);
    }
    const words = caption.raw.split(/\s+/).filter((w) => w.length > 0);
    let position = 0;
    const html = words.map((word) => {
      const count = vocabularyTokens(word).length;
      const colours = Array.from({ length: count }, (_, i) => colourOf.get(position + i)).filter((c) => c !== undefined);
      position += count;
      return colours.length > 0 ? `<b><span style="color:${colours[0]}">${escapeHtml(word)}</span></b>` : escapeHtml(word);
    });
    return '• ' + wrap(html, words.map((w) => w.length), wrapAt);
  });
}

/**
 * A grid of dataset images with their captions. Scenes images show each object's box (in
 * the colour its caption words are printed in, labelled with shape and hidden share) and
 * their occluders (white, dashed).
 */
export async function imageGridFigure(
  dataset: Pick<CaptionDataset, 'imagesRoot' | 'name'>,
  images: readonly DatasetImage[],
  options: { columns?: number; maxSide?: number; boxes?: boolean; title?: string; cellWidth?: number } = {},
): Promise<Figure> {
  const cellWidth = options.cellWidth ?? 290;
  const wrapAt = Math.floor((cellWidth - 16) / 5.6);
  const items: GridItem[] = [];
  for (const image of images) {
    const { uri, width, height } = await imageDataUri(imagePath(dataset, image), { maxSide: options.maxSide ?? 256 });
    const truth = sceneAnnotations(image);
    const boxes: GridItem['boxes'] = [];
    if (truth && (options.boxes ?? true)) {
      const sx = width / (truth.width || width);
      const sy = height / (truth.height || height);
      const scaled = (b: readonly number[]) => [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy];
      truth.objects.forEach((o, i) => {
        const hidden = o.hidden > 0 ? ` ${Math.round(o.hidden * 100)}% hidden` : '';
        boxes.push({ box: scaled(o.box), colour: OBJECT_BOX_COLOURS[i % OBJECT_BOX_COLOURS.length], label: `${i}: ${o.shape}${hidden}` });
      });
      for (const o of truth.occluders) boxes.push({ box: scaled(o.box), colour: OCCLUDER_COLOUR, dash: 'dot' });
    }
    items.push({ uri, width, height, title: `${image.split} · ${image.file}`, lines: captionLines(image, wrapAt), boxes });
  }
  return gridFigure(items, { columns: options.columns, cellWidth, title: options.title ?? `${dataset.name}: sample images and their captions` });
}
