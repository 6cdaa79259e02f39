/**
 * Showing figures and tables in a notebook, and exporting figures for the report.
 *
 * In a tslab kernel a figure is sent as one display bundle holding the plotly JSON (for
 * JupyterLab with the plotly extension), a PNG rendered in headless Chromium (for GitHub,
 * nbconvert and JupyterLab without the extension) and a text line. A table (a danfojs
 * DataFrame such as `compareRuns()` returns, a `{ columns, rows }` run table, or an array
 * of records) is sent as an HTML table with a fixed-width text/plain copy. Outside a kernel
 * (the CLI, scripts) `show` prints the table, or where to find the figure.
 */
import * as path from 'path';

import { writeFileAtomic } from '../common/atomic-write';
import { reportRoot } from '../common/project';
import { renderFigure, type Figure } from './renderer';
import { htmlTable, isDataFrameLike, isRowTable, tableOf, textTable } from './tables';

/** A Jupyter display_data message's content. */
export interface DisplayBundle {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** Builds the display bundle of a figure: plotly JSON, PNG and a text fallback. */
export async function figureBundle(figure: Figure): Promise<DisplayBundle> {
  const png = await renderFigure(figure, { format: 'png' });
  const title = figureTitle(figure);
  return {
    data: {
      [PLOTLY_MIME]: { data: figure.data, layout: figure.layout ?? {}, config: figure.config ?? {} },
      'image/png': png.toString('base64'),
      'text/plain': `<plotly figure${title ? `: ${title}` : ''}>`,
    },
    metadata: {},
  };
}

function figureTitle(figure: Figure): string | undefined {
  const title = figure.layout?.title;
  if (typeof title === 'string') return title;
  if (title && typeof title === 'object' && typeof (title as { text?: unknown }).text === 'string') {
    return (title as { text: string }).text;
  }
  return undefined;
}

type WriteDisplayData = (content: DisplayBundle & { transient: Record<string, unknown> }, update: boolean) => void;

/**
 * The running tslab kernel's display channel, or undefined outside a kernel. tslab's public
 * `display` sends one MIME type per message; its jupyter module's `lastWriteDisplayData`
 * (set while a cell executes) takes a whole bundle.
 */
function kernelDisplay(): WriteDisplayData | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData?: WriteDisplayData | null };
    return jupyter.lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}

/** Builds the display bundle of a table: HTML and fixed-width text. */
export function tableBundle(table: unknown, options: { maxRows?: number } = {}): DisplayBundle {
  const data = tableOf(table);
  return { data: { 'text/html': htmlTable(data, options), 'text/plain': textTable(data, options) }, metadata: {} };
}

/** True for what `show` displays as a table rather than a figure. */
export function isTable(x: unknown): boolean {
  return isDataFrameLike(x) || isRowTable(x) || (Array.isArray(x) && x.length > 0 && x.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r)));
}

/**
 * Shows a figure (plotly JSON + PNG) or a table (HTML + text) inline in the notebook;
 * outside a notebook, prints the table or a line about the figure.
 */
export async function show(x: Figure | object, options: { maxRows?: number } = {}): Promise<void> {
  const write = kernelDisplay();
  if (isTable(x)) {
    const bundle = tableBundle(x, options);
    if (!write) process.stdout.write(String(bundle.data['text/plain']));
    else write({ ...bundle, transient: {} }, false);
    return;
  }
  const figure = x as Figure;
  if (!Array.isArray(figure.data)) {
    throw new Error('show: expected a plotly figure ({ data: [...], layout }) or a table (DataFrame, { columns, rows }, array of records)');
  }
  const bundle = await figureBundle(figure);
  if (!write) {
    process.stdout.write(`${bundle.data['text/plain']} (not in a notebook: use exportFigure to save it)\n`);
    return;
  }
  write({ ...bundle, transient: {} }, false);
}

/**
 * Where exported figures go unless told otherwise: `figures/` of the report folder
 * (src/common/project.ts: $CAPTIONING_REPORT, else the project's report/), whatever the
 * working directory (a notebook's kernel runs in notebooks/).
 */
export function reportFiguresDir(): string {
  return path.join(reportRoot(), 'figures');
}

/** Writes `<name>.svg` and `<name>.png` into `report/figures/` (or `dir`); returns the paths. */
export async function exportFigure(figure: Figure, name: string, dir = reportFiguresDir()): Promise<{ svg: string; png: string }> {
  if (!/^[\w.-]+$/.test(name)) {
    throw new Error(`exportFigure: name ${JSON.stringify(name)} may use letters, digits, '_', '-' and '.' only`);
  }
  const svg = path.join(dir, `${name}.svg`);
  const png = path.join(dir, `${name}.png`);
  await writeFileAtomic(svg, await renderFigure(figure, { format: 'svg' }));
  await writeFileAtomic(png, await renderFigure(figure, { format: 'png', scale: 2 }));
  return { svg, png };
}
