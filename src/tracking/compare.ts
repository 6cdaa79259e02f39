/**
 * Runs side by side: one row per run with its parameters (the config flattened to dotted
 * keys) and its metrics, one column per metric and protocol, e.g.
 * `BLEU-4 (test, free-running, beam 3)` (the implementation is added when it is not
 * coco-caption: `loss (val, teacher-forced, captioning-lab)`). That is the *wide* format,
 * the default. The *long* format has one row per run and metric, with the protocol in
 * columns `metric, split, protocol, beam, implementation, value, epoch`.
 *
 *   const df = await lab.compareRuns({ status: 'finished', sortBy: 'BLEU-4 (test, free-running, beam 3)', ascending: false });
 *   await lab.show(df);
 *   const small = await lab.compareRuns({ where: { 'model.hidden': (h) => Number(h) <= 256 } });
 *
 * Only finished runs unless `status` says otherwise; damaged folders never (`listRuns` shows
 * them). Fixed columns come first: id, name, status, backend, epochs (trained), best_epoch
 * (1-based: the epoch whose checkpoint gave the test numbers), stop, seed, training_s. A config
 * key that collides with one of them is prefixed `config.`. `compareRuns` returns a danfojs
 * DataFrame (loaded on first use); `runTable` the same rows as plain objects.
 *
 * `groupSeeds: true` makes one row of the runs that differ only by seed (run-groups.ts: n,
 * seeds, the config keys that differ, per metric mean / sd / min / max), and `baseline` pins
 * one group, adding a difference column per metric:
 *
 *   await lab.compareRuns({ groupSeeds: true, baseline: { 'decoder.context': 'soft-attention' } });
 */
import type { DataFrame } from 'danfojs-node';

import { flattenConfig } from './canonical';
import { metricColumn, type StopRecord } from './records';
import { groupBySeed, type GroupOptions } from './run-groups';
import { listRuns, type RunEntry, type RunFilter } from './store';

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export interface RunTable {
  columns: string[];
  rows: Row[];
  /** Which columns are config keys and which metrics (the wide format says; run-groups.ts needs it). */
  params?: string[];
  metrics?: string[];
}

export interface CompareFilter extends RunFilter {
  /** 'wide' (default): a row per run; 'long': a row per run and metric. */
  format?: 'wide' | 'long';
  /** Keep rows where the predicate holds, or where each named column equals the value / passes the test. */
  where?: ((row: Row) => boolean) | Record<string, Cell | ((value: Cell) => boolean)>;
  /** Sort by these columns (missing values last). */
  sortBy?: string | string[];
  /** Per sort column (default true). */
  ascending?: boolean | boolean[];
  /** Keep only these columns, in this order. */
  columns?: string[];
  /**
   * One row per group of runs that differ only by seed (run-groups.ts): n, the seeds, the
   * config keys that differ between the groups, per metric mean / sd / min / max. `where`
   * filters the runs before they are grouped; `sortBy` and `columns` apply to the groups.
   */
  groupSeeds?: boolean;
  /** With `groupSeeds`: the pinned baseline group, which adds a difference column per metric. */
  baseline?: GroupOptions['baseline'];
}

export const FIXED_COLUMNS = ['id', 'name', 'status', 'backend', 'epochs', 'best_epoch', 'stop', 'seed', 'training_s'] as const;
export const LONG_COLUMNS = ['id', 'name', 'status', 'metric', 'split', 'protocol', 'beam', 'implementation', 'value', 'epoch'] as const;

/** `planned`, `early stop @ 7`, `interrupted @ 3`. */
export function stopLabel(stop: StopRecord): string {
  return stop.reason === 'planned' ? 'planned' : `${stop.reason === 'early-stop' ? 'early stop' : 'interrupted'} @ ${stop.epochs}`;
}

function fixedCells(entry: RunEntry): Row {
  const s = entry.summary;
  return {
    id: entry.id,
    name: s?.name ?? null,
    status: entry.problem ? 'damaged' : entry.status,
    backend: s?.backend ?? null,
    // Epochs trained (of those planned), the best epoch (1-based, the checkpoint the test numbers come from), why it stopped.
    epochs: s ? s.epochs.completed : entry.statusRecord?.epochsCompleted ?? null,
    best_epoch: s?.epochs.best !== undefined ? s.epochs.best + 1 : null,
    stop: s?.stop ? stopLabel(s.stop) : null,
    seed: s?.seed ?? null,
    training_s: s ? Math.round(s.trainingSeconds * 10) / 10 : null,
  };
}

/** Rows of the runs in the wide or long format, unfiltered and unsorted. */
export function tableOfRuns(entries: readonly RunEntry[], format: 'wide' | 'long' = 'wide'): RunTable {
  if (format === 'long') {
    const rows: Row[] = [];
    for (const entry of entries) {
      const fixed = fixedCells(entry);
      for (const m of entry.summary?.metrics ?? []) {
        rows.push({
          id: entry.id,
          name: fixed.name,
          status: fixed.status,
          metric: m.name,
          split: m.split ?? null,
          protocol: m.protocol ?? null,
          beam: m.beam ?? null,
          implementation: m.implementation,
          value: m.value,
          epoch: m.epoch ?? null,
        });
      }
    }
    return { columns: [...LONG_COLUMNS], rows };
  }
  const fixedSet = new Set<string>(FIXED_COLUMNS);
  const paramColumns = new Set<string>();
  const metricColumns = new Map<string, string>(); // column -> sort key
  const rows = entries.map((entry) => {
    const row = fixedCells(entry);
    for (const [key, value] of Object.entries(flattenConfig(entry.summary?.config ?? {}))) {
      const column = fixedSet.has(key) ? `config.${key}` : key;
      paramColumns.add(column);
      row[column] = value;
    }
    for (const m of entry.summary?.metrics ?? []) {
      const column = metricColumn(m);
      metricColumns.set(column, `${m.name}\u0000${column}`);
      row[column] = m.value;
    }
    return row;
  });
  const metricOrder = [...metricColumns.entries()].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)).map(([c]) => c);
  const params = [...paramColumns].sort();
  const columns = [...FIXED_COLUMNS, ...params, ...metricOrder];
  for (const row of rows) for (const c of columns) if (!(c in row)) row[c] = null;
  return { columns, rows, params, metrics: metricOrder };
}

function compareCells(a: Cell, b: Cell): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function checkColumn(table: RunTable, column: string, what: string): void {
  if (!table.columns.includes(column)) {
    throw new Error(`${what}: no column ${JSON.stringify(column)}; the columns are ${table.columns.map((c) => JSON.stringify(c)).join(', ')}`);
  }
}

/** Applies `where`, `sortBy` and `columns` of a filter to a table. */
export function shapeTable(table: RunTable, filter: Pick<CompareFilter, 'where' | 'sortBy' | 'ascending' | 'columns'>): RunTable {
  let rows = table.rows;
  const where = filter.where;
  if (typeof where === 'function') rows = rows.filter(where);
  else if (where) {
    for (const column of Object.keys(where)) checkColumn(table, column, 'where');
    rows = rows.filter((row) =>
      Object.entries(where).every(([column, test]) => (typeof test === 'function' ? test(row[column]) : row[column] === test)),
    );
  }
  if (filter.sortBy !== undefined) {
    const keys = Array.isArray(filter.sortBy) ? filter.sortBy : [filter.sortBy];
    keys.forEach((k) => checkColumn(table, k, 'sortBy'));
    const ascending = keys.map((_, i) => (Array.isArray(filter.ascending) ? filter.ascending[i] ?? true : filter.ascending ?? true));
    rows = [...rows].sort((a, b) => {
      for (let i = 0; i < keys.length; i++) {
        const [x, y] = [a[keys[i]], b[keys[i]]];
        if (x === null || y === null) {
          const c = compareCells(x, y); // missing values last either way
          if (c !== 0) return c;
          continue;
        }
        const c = compareCells(x, y) * (ascending[i] ? 1 : -1);
        if (c !== 0) return c;
      }
      return 0;
    });
  }
  let columns = table.columns;
  if (filter.columns) {
    filter.columns.forEach((c) => checkColumn(table, c, 'columns'));
    columns = filter.columns;
  }
  return { columns, rows: rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null]))) };
}

/** The comparison table as plain rows (for the CLI and the report). */
export function runTable(filter: CompareFilter = {}): RunTable {
  const entries = listRuns({ includeDamaged: false, status: 'finished', ...filter });
  const table = tableOfRuns(entries, filter.format ?? 'wide');
  if (!filter.groupSeeds) {
    if (filter.baseline !== undefined) throw new Error('compareRuns: baseline pins a group of seeds; set groupSeeds: true too');
    return shapeTable(table, filter);
  }
  if (filter.format === 'long') throw new Error('compareRuns: groupSeeds needs the wide format');
  const runs = { ...table, rows: shapeTable(table, { where: filter.where }).rows };
  return shapeTable(groupBySeed(runs, { baseline: filter.baseline }), { sortBy: filter.sortBy, ascending: filter.ascending, columns: filter.columns });
}

/** A danfojs DataFrame of a table (danfojs-node is loaded on first use: about a second). */
export function toDataFrame(table: RunTable): DataFrame {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dfd = require('danfojs-node') as typeof import('danfojs-node');
  // danfojs infers a column's type from its values; a column of nulls only needs a type hint.
  const values = table.rows.map((row) => table.columns.map((c) => row[c]));
  const dtypes = table.columns.map((c) => {
    const present = table.rows.map((r) => r[c]).filter((v) => v !== null);
    if (present.length === 0) return 'string';
    if (present.every((v) => typeof v === 'number')) return 'float32';
    if (present.every((v) => typeof v === 'boolean')) return 'boolean';
    return 'string';
  });
  if (values.length === 0) return new dfd.DataFrame([], { columns: table.columns });
  const cleaned = values.map((row) => row.map((v, i) => (dtypes[i] === 'string' && v !== null && typeof v !== 'string' ? String(v) : v)));
  return new dfd.DataFrame(cleaned, { columns: table.columns, dtypes });
}

/** Runs compared in a danfojs DataFrame; see the module comment for the columns. */
export async function compareRuns(filter: CompareFilter = {}): Promise<DataFrame> {
  return toDataFrame(runTable(filter));
}
