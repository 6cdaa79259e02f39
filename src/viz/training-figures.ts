/**
 * Figures of training runs (plotly): training loss per iteration and validation loss per
 * epoch for several runs (the report's Figures 4-5 and its training-loss curves), and metric
 * bars labelled with their protocol (split, free-running or teacher-forced, beam,
 * implementation), so that numbers measured differently never look alike.
 *
 *   const runs = [baseline, bert].map((r) => lab.curvesOf(r));
 *   await lab.show(lab.trainingLossFigure(runs));             // x: iteration, y: loss per step
 *   await lab.show(lab.validationLossFigure(runs));           // x: epoch, y: val_loss
 *   await lab.show(lab.metricBarsFigure(entries, { scale: 100 }));
 */
import type { MetricRecord, RunMetric } from '../tracking/records';
import { metricColumn, protocolLabel } from '../tracking/records';
import { bottomLegend } from './legend';
import type { Figure } from './renderer';

/** One run's metric history and the label its curve gets. */
export interface RunCurves {
  label: string;
  records: readonly MetricRecord[];
}

/** Something with an id and a metrics history, such as a tracking Run. */
export interface HasHistory {
  id: string;
  history(kind?: 'step' | 'epoch'): MetricRecord[];
}

/** The curves of a run, labelled with its id (or `label`). */
export function curvesOf(run: HasHistory, label?: string): RunCurves {
  return { label: label ?? run.id, records: run.history() };
}

export const RUN_COLOURS = ['#3b6ea5', '#e08a2c', '#4f9d5a', '#c0392b', '#8e6bbf', '#8c564b', '#17becf', '#7f7f7f'];

/** Centred moving average over `window` points (1: none). */
export function movingAverage(values: readonly number[], window: number): number[] {
  if (window <= 1) return [...values];
  const half = Math.floor(window / 2);
  return values.map((_, i) => {
    const lo = Math.max(0, i - half);
    const hi = Math.min(values.length, i + half + 1);
    let s = 0;
    for (let j = lo; j < hi; j++) s += values[j];
    return s / (hi - lo);
  });
}

function points(records: readonly MetricRecord[], kind: 'step' | 'epoch', metric: string): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (const r of records) {
    const v = r[metric];
    if (r.kind !== kind || typeof v !== 'number') continue;
    x.push(kind === 'step' ? r.step : r.epoch + 1);
    y.push(v);
  }
  return { x, y };
}

/** Each run's points of a metric (read once), or an error naming the runs when none has any. */
function seriesOf(runs: readonly RunCurves[], kind: 'step' | 'epoch', metric: string): { x: number[]; y: number[] }[] {
  if (runs.length === 0) throw new Error('no runs to plot');
  const series = runs.map((r) => points(r.records, kind, metric));
  if (series.every((p) => p.x.length === 0)) {
    throw new Error(`no ${kind} records with a numeric ${JSON.stringify(metric)} in ${runs.map((r) => r.label).join(', ')}`);
  }
  return series;
}

/**
 * A moving average over `window` points drawn through every `window / 4`-th point (and the
 * last): it varies over `window` points, so the thinned line looks the same, while the figure
 * carries each raw point once (in the faint raw curve) instead of twice.
 */
function smoothedLine(x: readonly number[], y: readonly number[], window: number): { x: number[]; y: number[] } {
  const smoothed = movingAverage(y, window);
  const stride = Math.max(1, Math.floor(window / 4));
  const keep = (i: number) => i % stride === 0 || i === x.length - 1;
  return { x: x.filter((_, i) => keep(i)), y: smoothed.filter((_, i) => keep(i)) };
}

export interface CurveOptions {
  /** The metric key in metrics.jsonl (default 'loss' per step, 'val_loss' per epoch). */
  metric?: string;
  title?: string;
  /** Axis title of the values. */
  yTitle?: string;
  /**
   * Moving average over this many points (metrics.jsonl step lines: each the mean of its
   * `steps` steps), drawn over the faint raw curve (step curves; default 1).
   */
  smooth?: number;
  /** Logarithmic value axis. */
  logY?: boolean;
  width?: number;
  height?: number;
}

/**
 * Training loss per iteration (optimiser step) of several runs: a point per metrics.jsonl step
 * line, at its last step, with the mean over its steps (at most about 100 lines an epoch).
 */
export function trainingLossFigure(runs: readonly RunCurves[], options: CurveOptions = {}): Figure {
  const metric = options.metric ?? 'loss';
  const series = seriesOf(runs, 'step', metric);
  const smooth = options.smooth ?? 1;
  const data: Record<string, unknown>[] = [];
  runs.forEach((run, i) => {
    const { x, y } = series[i];
    const colour = RUN_COLOURS[i % RUN_COLOURS.length];
    if (smooth > 1) {
      data.push({ type: 'scatter', mode: 'lines', name: `${run.label} (raw)`, x, y, line: { color: colour, width: 1 }, opacity: 0.3, showlegend: false, hoverinfo: 'skip' });
    }
    const line = smooth > 1 ? smoothedLine(x, y, smooth) : { x, y };
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: run.label,
      x: line.x,
      y: line.y,
      line: { color: colour, width: 2 },
      hovertemplate: `${run.label}<br>iteration %{x}<br>${metric} %{y:.4f}<extra></extra>`,
    });
  });
  return {
    data,
    layout: {
      title: { text: options.title ?? `Training ${metric} per iteration${smooth > 1 ? ` (moving average of ${smooth})` : ''}` },
      xaxis: { title: { text: 'iteration (optimiser step)' } },
      yaxis: { title: { text: options.yTitle ?? `${metric} (per step)` }, ...(options.logY ? { type: 'log' } : {}) },
      ...legendBelow(runs.map((r) => r.label), options),
    },
  };
}

/** Validation loss per epoch of several runs (markers at each epoch). */
export function validationLossFigure(runs: readonly RunCurves[], options: CurveOptions = {}): Figure {
  const metric = options.metric ?? 'val_loss';
  const series = seriesOf(runs, 'epoch', metric);
  const data = runs.map((run, i) => {
    const { x, y } = series[i];
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: run.label,
      x,
      y,
      line: { color: RUN_COLOURS[i % RUN_COLOURS.length], width: 2 },
      hovertemplate: `${run.label}<br>epoch %{x}<br>${metric} %{y:.4f}<extra></extra>`,
    };
  });
  return {
    data,
    layout: {
      title: { text: options.title ?? `Validation: ${metric} per epoch` },
      xaxis: { title: { text: 'epoch' }, dtick: 1 },
      yaxis: { title: { text: options.yTitle ?? metric }, ...(options.logY ? { type: 'log' } : {}) },
      ...legendBelow(runs.map((r) => r.label), options),
    },
  };
}

/** Width, height, legend and bottom margin of a curve figure with these legend entries. */
function legendBelow(labels: readonly string[], options: { width?: number; height?: number }): Record<string, unknown> {
  const width = options.width ?? 760;
  const below = bottomLegend(labels, width);
  return { width, height: options.height ?? 420 + below.extraHeight, legend: below.legend, margin: { b: below.margin } };
}

/** One bar: a metric of a group (a run, a model, "report"). */
export interface MetricBar {
  group: string;
  metric: RunMetric;
}

export interface MetricBarsOptions {
  title?: string;
  /** Multiply values (100 for BLEU as papers print it). The axis title says so. */
  scale?: number;
  /** Keep only these metric names. */
  metrics?: string[];
  width?: number;
  height?: number;
}

/**
 * Grouped bars: one group per run or model, one bar per metric, and every bar's protocol said.
 * When every bar of a group shares one protocol (`test, free-running, beam 3`), the bars are
 * keyed by metric name (one colour per metric across the groups: a colour is a metric, not a
 * protocol) and the protocol is the group's second label line; otherwise there is one bar per
 * metric and protocol, each named with its protocol. Implementations other than coco-caption
 * are always said.
 */
export function metricBarsFigure(bars: readonly MetricBar[], options: MetricBarsOptions = {}): Figure {
  const kept = bars.filter((b) => !options.metrics || options.metrics.includes(b.metric.name));
  if (kept.length === 0) throw new Error(`no metrics to plot${options.metrics ? ` among ${options.metrics.join(', ')}` : ''}`);
  const scale = options.scale ?? 1;
  const groups = [...new Set(kept.map((b) => b.group))];
  const protocolOf = new Map(groups.map((g) => [g, [...new Set(kept.filter((b) => b.group === g).map((b) => protocolLabel(b.metric)))]]));
  const byName = groups.every((g) => protocolOf.get(g)!.length === 1);
  const key = (m: RunMetric) => (byName ? m.name : metricColumn(m));
  const labels = groups.map((g) => (byName && protocolOf.get(g)![0] ? `${g}<br><sup>${protocolOf.get(g)![0]}</sup>` : g));
  const columns = [...new Set(kept.map((b) => key(b.metric)))];
  const data = columns.map((column, i) => {
    const y = groups.map((g) => {
      const bar = kept.find((b) => b.group === g && key(b.metric) === column);
      return bar ? bar.metric.value * scale : null;
    });
    const sample = kept.find((b) => key(b.metric) === column)!.metric;
    return {
      type: 'bar',
      name: column,
      x: labels,
      y,
      text: y.map((v) => (v === null ? '' : `${v.toFixed(scale >= 100 ? 1 : 3)}`)),
      textposition: 'outside',
      cliponaxis: false,
      marker: { color: RUN_COLOURS[i % RUN_COLOURS.length] },
      hovertemplate: `%{x}<br>${sample.name}: %{y}${byName ? '' : `<br>${protocolLabel(sample, { implementation: 'always' })}`}<extra></extra>`, // by name: the group's label line says the protocol
    };
  });
  const width = options.width ?? 820;
  const below = bottomLegend(columns, width);
  return {
    data,
    layout: {
      title: { text: options.title ?? `Metrics by run (${scale !== 1 ? `x${scale}` : 'as recorded'})` },
      barmode: 'group',
      xaxis: { type: 'category', automargin: true },
      yaxis: { title: { text: scale !== 1 ? `value x${scale}` : 'value (0-1; CIDEr-D x10)' }, automargin: true },
      width,
      height: options.height ?? 440 + below.extraHeight,
      legend: below.legend,
      margin: { b: below.margin },
    },
  };
}
