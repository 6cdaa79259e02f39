/**
 * Runs grouped as one thinks of them: the runs of one config trained with several seeds are
 * one row, with n, the seeds, and per metric the mean, the standard deviation (n - 1), the
 * minimum and the maximum; only the config keys that differ between the rows are shown; a
 * pinned baseline row gives every other row a difference column per metric (row mean minus
 * the baseline's mean).
 *
 *   const table = groupBySeed(tableOfRuns(entries), { baseline: { 'decoder.hidden': 512 } });
 *   await lab.compareRuns({ groupSeeds: true, baseline: (row) => row.group === 'baseline' });
 */
import { meanAndSd } from '../common/statistics';
import { canonicalJson } from './canonical';
import type { Cell, Row, RunTable } from './compare';

export interface GroupOptions {
  /** The baseline row: the group whose cells have these values (its shown config keys, `group`), or for which the test holds; exactly one must. */
  baseline?: Record<string, Cell> | ((row: Row) => boolean);
}

/** Columns of a seed group for a metric column `m`: `m mean`, `m sd`, `m min`, `m max`, and `Δ m` with a baseline. */
export const groupColumn = {
  mean: (metric: string) => `${metric} mean`,
  sd: (metric: string) => `${metric} sd`,
  min: (metric: string) => `${metric} min`,
  max: (metric: string) => `${metric} max`,
  difference: (metric: string) => `Δ ${metric}`,
};

/** Config columns that name the seed, whichever the table has. */
const SEED_COLUMNS = new Set(['seed', 'config.seed']);

/**
 * One row per group of runs whose config differs only by seed (the wide table of
 * `tableOfRuns`, which says which columns are config keys and which metrics). Rows keep the
 * order of each group's first run; `group` names it by its runs' common name (the name
 * without its `-s<seed>` ending).
 */
export function groupBySeed(table: RunTable, options: GroupOptions = {}): RunTable {
  const { params, metrics } = table;
  if (!params || !metrics) throw new Error('groupBySeed: the table says nothing of its config and metric columns (use the wide format of tableOfRuns)');
  const keyColumns = params.filter((c) => !SEED_COLUMNS.has(c));
  const groups = new Map<string, Row[]>();
  for (const row of table.rows) {
    const key = canonicalJson(keyColumns.map((c) => row[c] ?? null));
    const runs = groups.get(key);
    if (runs) runs.push(row);
    else groups.set(key, [row]);
  }
  const members = [...groups.values()];
  const differing = keyColumns.filter((c) => new Set(members.map((runs) => canonicalJson(runs[0][c] ?? null))).size > 1);
  const rows: Row[] = members.map((runs) => {
    const row: Row = { group: groupName(runs), n: runs.length, seeds: runs.map((r) => r.seed).join(', ') };
    for (const c of differing) row[c] = runs[0][c];
    for (const m of metrics) {
      const values = runs.map((r) => r[m]).filter((v): v is number => typeof v === 'number');
      const { mean, sd } = meanAndSd(values);
      row[groupColumn.mean(m)] = values.length > 0 ? mean : null;
      row[groupColumn.sd(m)] = values.length > 1 ? sd : null;
      row[groupColumn.min(m)] = values.length > 0 ? Math.min(...values) : null;
      row[groupColumn.max(m)] = values.length > 0 ? Math.max(...values) : null;
    }
    return row;
  });
  const metricColumns = metrics.flatMap((m) => [groupColumn.mean(m), groupColumn.sd(m), groupColumn.min(m), groupColumn.max(m)]);
  const columns = ['group', 'n', 'seeds', ...differing, ...metricColumns];
  if (options.baseline === undefined) return { columns, rows, params: differing, metrics: metricColumns };
  const test = options.baseline;
  const isBaseline = typeof test === 'function' ? test : (row: Row) => Object.entries(test).every(([c, v]) => canonicalJson(row[c] ?? null) === canonicalJson(v));
  const baselines = rows.filter(isBaseline);
  if (baselines.length !== 1) {
    throw new Error(`groupBySeed: the baseline ${typeof test === 'function' ? 'test' : JSON.stringify(test)} matches ${baselines.length} of the groups (${rows.map((r) => JSON.stringify(r.group)).join(', ')}); it must match exactly one`);
  }
  const [baseline] = baselines;
  const differences = metrics.map((m) => groupColumn.difference(m));
  for (const row of rows) {
    for (const m of metrics) {
      const [own, base] = [row[groupColumn.mean(m)], baseline[groupColumn.mean(m)]];
      row[groupColumn.difference(m)] = typeof own === 'number' && typeof base === 'number' ? own - base : null;
    }
    row.baseline = row === baseline;
  }
  return { columns: ['group', 'baseline', 'n', 'seeds', ...differing, ...metrics.flatMap((m) => [groupColumn.mean(m), groupColumn.sd(m), groupColumn.min(m), groupColumn.max(m), groupColumn.difference(m)])], rows, params: differing, metrics: [...metricColumns, ...differences] };
}

/** A run name without its `-s<seed>` ending: `ablation-alpha-c-1-s3` -> `ablation-alpha-c-1`. */
export function seedStem(name: string): string {
  return name.replace(/-s\d+$/, '');
}

/** The runs' common name without a `-s<seed>` ending (their names joined where they differ). */
function groupName(runs: readonly Row[]): string {
  const stems = [...new Set(runs.map((r) => seedStem(String(r.name ?? r.id))))];
  return stems.join(' | ');
}
