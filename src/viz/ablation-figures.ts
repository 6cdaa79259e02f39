/**
 * The ablation plots (issue #18: error bars that are real, one colour per arm, labels by arm):
 *
 * - `ablationFigure`: one bar per arm at the mean over its seeds, with ±1 standard deviation
 *   whiskers and every seed's value as a dot, so a difference can be judged against the
 *   seed-to-seed noise;
 * - `differenceFigure`: each arm's paired difference against its reference (comparisons.ts)
 *   as a dot with its 95 % bootstrap interval, and a line at 0: an interval crossing it is a
 *   difference the choice of test images could explain.
 *
 * An arm keeps its colour in both (its place in the list), and the axis labels are the arms'
 * names; the study is in the hover text and the title.
 *
 *   const figure = ablationFigure(summaries, 'test BLEU-4', { scale: 100 });
 *   const forest = differenceFigure(comparisons, 'BLEU-4', { scale: 100 });
 */
import type { ArmSummary } from '../analysis/ablations';
import type { BootstrapMetric } from '../analysis/bootstrap';
import type { ArmComparison } from '../analysis/comparisons';
import type { Figure } from './renderer';
import { RUN_COLOURS } from './training-figures';

export interface AblationFigureOptions {
  title?: string;
  /** Multiply values (100 for BLEU as papers print it). */
  scale?: number;
  /** Axis title of the values (default: the value's name, with the scale). */
  yTitle?: string;
  width?: number;
  height?: number;
}

const colourOf = (i: number) => RUN_COLOURS[i % RUN_COLOURS.length];

/** Arm labels as the axis shows them: the arm's name, with its study where two studies share an arm name. */
function armLabels(items: readonly { study: string; arm: string }[]): string[] {
  const count = new Map<string, number>();
  for (const s of items) count.set(s.arm, (count.get(s.arm) ?? 0) + 1);
  return items.map((s) => ((count.get(s.arm) ?? 0) > 1 ? `${s.arm} (${s.study})` : s.arm));
}

/** Bars (mean), whiskers (±sd) and dots (seeds) of one number, one colour per arm. */
export function ablationFigure(summaries: readonly ArmSummary[], value: string, options: AblationFigureOptions = {}): Figure {
  const kept = summaries.filter((s) => s.values[value] && s.values[value].n > 0);
  if (kept.length === 0) throw new Error(`ablationFigure: no arm has a value named ${JSON.stringify(value)}`);
  const scale = options.scale ?? 1;
  const labels = armLabels(kept);
  const data: Record<string, unknown>[] = kept.map((s, i) => {
    const v = s.values[value];
    return {
      type: 'bar',
      name: labels[i],
      x: [labels[i]],
      y: [v.mean * scale],
      error_y: { type: 'data', array: [v.sd * scale], visible: true, color: '#333', thickness: 1.5, width: 6 },
      marker: { color: colourOf(i), opacity: 0.8 },
      showlegend: false,
      hovertemplate: `${s.study}: ${s.arm}<br>${value}: %{y:.4g} ± ${(v.sd * scale).toPrecision(3)} (n=${v.n})<extra></extra>`,
    };
  });
  data.push({
    type: 'scatter',
    mode: 'markers',
    name: 'one seed',
    x: kept.flatMap((s, i) => s.values[value].values.map(() => labels[i])),
    y: kept.flatMap((s) => s.values[value].values.map((v) => v * scale)),
    marker: { color: '#111', size: 6, symbol: 'circle-open' },
    hovertemplate: `%{x}<br>one seed: %{y}<extra></extra>`,
  });
  const ns = [...new Set(kept.map((s) => s.values[value].n))];
  return {
    data,
    layout: {
      title: { text: options.title ?? `${value}: mean ± sd over seeds (n=${ns.join('/')}), dots: seeds` },
      xaxis: { type: 'category', tickangle: -30, automargin: true },
      yaxis: { title: { text: options.yTitle ?? (scale !== 1 ? `${value} x${scale}` : value) }, automargin: true },
      width: options.width ?? 900,
      height: options.height ?? 480,
      showlegend: false,
      margin: { t: 60 },
    },
  };
}

/** Each arm's paired difference against its reference, with its 95 % interval, one row per arm (reference rows left out). */
export function differenceFigure(comparisons: readonly ArmComparison[], metric: BootstrapMetric, options: AblationFigureOptions = {}): Figure {
  const indexed = comparisons.map((c, i) => ({ c, i })).filter(({ c }) => c.differences !== null);
  if (indexed.length === 0) throw new Error('differenceFigure: no arm has a difference against a reference');
  const scale = options.scale ?? 1;
  const labels = armLabels(comparisons);
  const data: Record<string, unknown>[] = indexed.map(({ c, i }) => {
    const d = c.differences![metric];
    return {
      type: 'scatter',
      mode: 'markers',
      name: labels[i],
      x: [d.difference * scale],
      y: [labels[i]],
      error_x: { type: 'data', symmetric: false, array: [(d.high - d.difference) * scale], arrayminus: [(d.difference - d.low) * scale], color: colourOf(i), thickness: 2, width: 6 },
      marker: { color: colourOf(i), size: 10, symbol: d.excludesZero ? 'circle' : 'circle-open', line: { width: 2, color: colourOf(i) } },
      showlegend: false,
      hovertemplate: `${c.study}: ${c.arm}<br>Δ ${metric} %{x:.4g} [${(d.low * scale).toPrecision(3)}, ${(d.high * scale).toPrecision(3)}] (n=${c.scores[metric].n})<extra></extra>`,
    };
  });
  return {
    data,
    layout: {
      title: { text: options.title ?? `Δ ${metric} against the reference: paired bootstrap over test images, 95 % interval (filled: excludes 0)` },
      xaxis: { title: { text: options.yTitle ?? `Δ ${metric}${scale !== 1 ? ` x${scale}` : ''}` }, zeroline: true, zerolinecolor: '#333', zerolinewidth: 2, automargin: true },
      yaxis: { type: 'category', autorange: 'reversed', automargin: true },
      width: options.width ?? 900,
      height: options.height ?? Math.max(260, 90 + 40 * indexed.length),
      showlegend: false,
      margin: { t: 60 },
    },
  };
}
