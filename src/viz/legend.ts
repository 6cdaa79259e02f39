/**
 * The horizontal legend under a figure's x axis (issue #19: a legend at `y: -0.2` sat on the
 * axis title whenever the plot was short or the entries many). The legend is anchored to the
 * figure's bottom edge (`yref: 'container'`), and the bottom margin grows by a row's height for
 * each row the entries need at the figure's width, so the axis title keeps its place above it.
 *
 *   const { legend, margin, extraHeight } = bottomLegend(traces.map((t) => t.name), 760);
 *   layout = { ..., height: options.height ?? 420 + extraHeight, legend, margin: { b: margin } };
 *
 * A height the caller gives is the figure's whole height; the default grows with the legend.
 */

/** Pixels of one legend row, and of the axis title's band above the legend. */
const ROW = 24;
const AXIS_TITLE = 70;

/** Legend settings, the bottom margin and the height to add for `labels` at `width` pixels. */
export function bottomLegend(labels: readonly string[], width: number): { legend: Record<string, unknown>; margin: number; extraHeight: number; rows: number } {
  // About 7.5 px a character at plotly's 12 px font, plus the symbol and the gap.
  const longest = Math.max(1, ...labels.map((l) => l.length));
  const perRow = Math.max(1, Math.floor((width - 80) / (longest * 7.5 + 50)));
  const rows = labels.length === 0 ? 0 : Math.ceil(labels.length / perRow);
  return {
    legend: { orientation: 'h', x: 0, y: 0, yref: 'container', yanchor: 'bottom' },
    margin: AXIS_TITLE + ROW * rows,
    extraHeight: ROW * rows,
    rows,
  };
}
