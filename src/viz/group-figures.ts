/**
 * Curves of runs grouped by arm (issue #18): one colour per group, its mean over the group's
 * runs (its seeds) as a line and a band around it (their minimum to maximum, or the mean ±
 * one standard deviation), instead of one line per run id. A point of the x axis (an epoch,
 * or a step line's step) is drawn where every run of the group has it, so the mean never mixes
 * seeds that stopped early with those that did not.
 *
 *   const groups = arms.map((a) => ({ label: a.arm, runs: a.runs.map((r) => lab.curvesOf(r)) }));
 *   await lab.show(lab.groupCurvesFigure(groups, { kind: 'epoch', metric: 'val_loss' }));
 */
import { meanAndSd } from '../common/statistics';
import { bottomLegend } from './legend';
import type { Figure } from './renderer';
import { RUN_COLOURS, type RunCurves } from './training-figures';

export interface CurveGroup {
  label: string;
  runs: readonly RunCurves[];
}

export interface GroupCurveOptions {
  /** Epoch records (default) or step lines. */
  kind?: 'epoch' | 'step';
  /** The metric key in metrics.jsonl (default 'val_loss' per epoch, 'loss' per step). */
  metric?: string;
  /** The band: 'min-max' (default) or 'sd' (mean ± one standard deviation over the runs). */
  band?: 'min-max' | 'sd';
  title?: string;
  yTitle?: string;
  width?: number;
  height?: number;
}

/** The mean of a group's runs at each x all of them have, with the band's two edges. */
export function groupSeries(group: CurveGroup, kind: 'epoch' | 'step', metric: string, band: 'min-max' | 'sd'): { x: number[]; mean: number[]; low: number[]; high: number[] } {
  const perRun = group.runs.map((run) => {
    const values = new Map<number, number>();
    for (const r of run.records) {
      const v = r[metric];
      if (r.kind === kind && typeof v === 'number') values.set(kind === 'step' ? r.step : r.epoch + 1, v);
    }
    return values;
  });
  const xs = perRun.length === 0 ? [] : [...perRun[0].keys()].filter((x) => perRun.every((values) => values.has(x))).sort((a, b) => a - b);
  const out = { x: xs, mean: [] as number[], low: [] as number[], high: [] as number[] };
  for (const x of xs) {
    const values = perRun.map((v) => v.get(x)!);
    const { mean, sd } = meanAndSd(values);
    out.mean.push(mean);
    out.low.push(band === 'sd' ? mean - sd : Math.min(...values));
    out.high.push(band === 'sd' ? mean + sd : Math.max(...values));
  }
  return out;
}

/** Line styles for groups beyond the palette's colours: the ninth group is the first's colour, dashed. */
const LINE_DASHES = ['solid', 'dash', 'dot'];

/** `#rrggbb` at `alpha`, for a band under its line. */
function translucent(colour: string, alpha: number): string {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** Each group's mean curve over its runs with a band (see the module comment). */
export function groupCurvesFigure(groups: readonly CurveGroup[], options: GroupCurveOptions = {}): Figure {
  const kind = options.kind ?? 'epoch';
  const metric = options.metric ?? (kind === 'epoch' ? 'val_loss' : 'loss');
  const band = options.band ?? 'min-max';
  if (groups.length === 0) throw new Error('groupCurvesFigure: no groups to plot');
  const series = groups.map((g) => groupSeries(g, kind, metric, band));
  if (series.every((s) => s.x.length === 0)) {
    throw new Error(`groupCurvesFigure: no ${kind} records with a numeric ${JSON.stringify(metric)} common to the runs of ${groups.map((g) => g.label).join(', ')}`);
  }
  const bandName = band === 'sd' ? '± 1 sd' : 'min-max';
  const data: Record<string, unknown>[] = [];
  groups.forEach((group, i) => {
    const { x, mean, low, high } = series[i];
    const colour = RUN_COLOURS[i % RUN_COLOURS.length];
    const n = group.runs.length;
    // The band: its lower edge, then the upper edge filled down to it.
    data.push({ type: 'scatter', mode: 'lines', x, y: low, line: { width: 0, color: colour }, showlegend: false, hoverinfo: 'skip', legendgroup: group.label });
    data.push({ type: 'scatter', mode: 'lines', x, y: high, line: { width: 0, color: colour }, fill: 'tonexty', fillcolor: translucent(colour, 0.2), showlegend: false, hoverinfo: 'skip', legendgroup: group.label });
    data.push({
      type: 'scatter',
      mode: kind === 'epoch' ? 'lines+markers' : 'lines',
      name: `${group.label} (n=${n})`,
      x,
      y: mean,
      line: { color: colour, width: 2, dash: LINE_DASHES[Math.floor(i / RUN_COLOURS.length) % LINE_DASHES.length] }, // past the palette's colours, another dash
      legendgroup: group.label,
      hovertemplate: `${group.label}<br>${kind} %{x}<br>mean ${metric} %{y:.4f} (n=${n})<extra></extra>`,
    });
  });
  const width = options.width ?? 760;
  const below = bottomLegend(groups.map((g) => `${g.label} (n=${g.runs.length})`), width);
  return {
    data,
    layout: {
      // What the line and the band are, under every title.
      title: { text: `${options.title ?? `${metric} per ${kind === 'epoch' ? 'epoch' : 'iteration'}`}<br><sup>line: mean over seeds; band: ${bandName}</sup>` },
      xaxis: { title: { text: kind === 'epoch' ? 'epoch' : 'iteration (optimiser step)' }, ...(kind === 'epoch' ? { dtick: 1 } : {}) },
      yaxis: { title: { text: options.yTitle ?? metric } },
      width,
      height: options.height ?? 400 + below.extraHeight,
      legend: below.legend,
      margin: { b: below.margin },
    },
  };
}
