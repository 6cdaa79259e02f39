/**
 * Showing figures in a notebook, and exporting them for the report.
 *
 * In a tslab kernel a figure is sent as one display bundle holding the plotly JSON (for
 * JupyterLab with the plotly extension), a PNG rendered in headless Chromium (for GitHub,
 * nbconvert and JupyterLab without the extension) and a text line. Outside a kernel (the
 * CLI, scripts) `show` prints where to find the figure instead.
 */
import * as path from 'path';

import { writeFileAtomic } from '../common/atomic-write';
import { renderFigure, type Figure } from './renderer';

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

/** Shows a figure inline in the notebook (plotly JSON + PNG). */
export async function show(figure: Figure): Promise<void> {
  const bundle = await figureBundle(figure);
  const write = kernelDisplay();
  if (!write) {
    process.stdout.write(`${bundle.data['text/plain']} (not in a notebook: use exportFigure to save it)\n`);
    return;
  }
  write({ ...bundle, transient: {} }, false);
}

/** Where exported figures go unless told otherwise. */
export const REPORT_FIGURES_DIR = path.join('report', 'figures');

/** Writes `<name>.svg` and `<name>.png` into `report/figures/` (or `dir`); returns the paths. */
export async function exportFigure(figure: Figure, name: string, dir = REPORT_FIGURES_DIR): Promise<{ svg: string; png: string }> {
  if (!/^[\w.-]+$/.test(name)) {
    throw new Error(`exportFigure: name ${JSON.stringify(name)} may use letters, digits, '_', '-' and '.' only`);
  }
  const svg = path.join(dir, `${name}.svg`);
  const png = path.join(dir, `${name}.png`);
  await writeFileAtomic(svg, await renderFigure(figure, { format: 'svg' }));
  await writeFileAtomic(png, await renderFigure(figure, { format: 'png', scale: 2 }));
  return { svg, png };
}
