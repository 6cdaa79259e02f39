/**
 * Summaries of repeated measurements (a metric over seeds): the mean and the sample standard
 * deviation, shared by the run store's seed groups, the analysis tables and the group figures.
 */

/** Mean and sample standard deviation (n - 1; 0 for one value; the mean of none is NaN). */
export function meanAndSd(values: readonly number[]): { mean: number; sd: number } {
  const n = values.length;
  const mean = n === 0 ? NaN : values.reduce((s, v) => s + v, 0) / n;
  const sd = n < 2 ? 0 : Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return { mean, sd };
}
