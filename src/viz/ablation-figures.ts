/**
 * The ablation plot: for each study a panel of bars, one per arm, at the mean over seeds,
 * with ±1 standard deviation whiskers and every seed's value as a dot, so that a difference
 * can be judged against the seed-to-seed noise.
 *
 *   const figure = ablationFigure(summaries, 'BLEU-4 (beam 3)', { scale: 100 });
 */
import type { ArmSummary } from '../analysis/ablations';
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

/** Bars (mean), whiskers (±sd) and dots (seeds) of one number, grouped by study. */
export function ablationFigure(summaries: readonly ArmSummary[], value: string, options: AblationFigureOptions = {}): Figure {
  const kept = summaries.filter((s) => s.values[value] && s.values[value].n > 0);
  if (kept.length === 0) throw new Error(`ablationFigure: no arm has a value named ${JSON.stringify(value)}`);
  const scale = options.scale ?? 1;
  const studies = [...new Set(kept.map((s) => s.study))];
  const label = (s: ArmSummary) => `${s.study}: ${s.arm}`;
  const data: Record<string, unknown>[] = studies.map((study, i) => {
    const arms = kept.filter((s) => s.study === study);
    return {
      type: 'bar',
      name: study,
      x: arms.map(label),
      y: arms.map((s) => s.values[value].mean * scale),
      error_y: { type: 'data', array: arms.map((s) => s.values[value].sd * scale), visible: true, color: '#444' },
      text: arms.map((s) => (s.values[value].mean * scale).toFixed(scale >= 100 ? 1 : 3)),
      textposition: 'inside',
      marker: { color: RUN_COLOURS[i % RUN_COLOURS.length], opacity: 0.75 },
      hovertemplate: `%{x}<br>${value}: %{y} ± %{error_y.array}<extra></extra>`,
    };
  });
  data.push({
    type: 'scatter',
    mode: 'markers',
    name: 'seeds',
    x: kept.flatMap((s) => s.values[value].values.map(() => label(s))),
    y: kept.flatMap((s) => s.values[value].values.map((v) => v * scale)),
    marker: { color: '#111', size: 6, symbol: 'circle-open' },
    hovertemplate: `%{x}<br>one seed: %{y}<extra></extra>`,
  });
  return {
    data,
    layout: {
      title: { text: options.title ?? `Ablations: ${value} (mean ± sd over seeds)` },
      barmode: 'group',
      xaxis: { type: 'category', tickangle: -30, automargin: true },
      yaxis: { title: { text: options.yTitle ?? (scale !== 1 ? `${value} x${scale}` : value) } },
      width: options.width ?? 900,
      height: options.height ?? 480,
      legend: { orientation: 'h', y: -0.45 },
      margin: { b: 160 },
    },
  };
}
