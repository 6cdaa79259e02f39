/**
 * Tables the notebooks export for report/ ($CAPTIONING_REPORT moves it), beside their
 * figures: each as `report/tables/<name>.csv` (for spreadsheets) and `<name>.json` (title, columns, rows), which
 * `npm run report` puts into report/README.md and index.html.
 *
 *   await exportTable(rows, '05-table1-bleu4', { title: 'Table 1: BLEU-4 under both protocols' });
 *
 * Rows are objects (one key per column, in the first row's key order, later keys appended);
 * writes are atomic, so an interrupted export leaves the previous table whole.
 */
import * as fs from 'fs';
import * as path from 'path';

import { writeFileAtomic } from '../common/atomic-write';
import { reportRoot } from '../common/project';
import type { TableCell } from '../viz/tables';

/** `tables/` of the report folder: $CAPTIONING_REPORT, else the project's report/. */
export function reportTablesDir(): string {
  return path.join(reportRoot(), 'tables');
}

export interface ExportedTable {
  schema: 'captioning-lab/table@1';
  name: string;
  title: string;
  columns: string[];
  rows: TableCell[][];
}

/** RFC 4180 CSV: fields with a comma, quote or newline are quoted, quotes doubled. */
export function toCsv(columns: readonly string[], rows: readonly (readonly TableCell[])[]): string {
  const quote = (v: TableCell) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.map(quote).join(','), ...rows.map((r) => r.map(quote).join(','))].join('\n') + '\n';
}

/** Writes `<name>.json` and `<name>.csv` into report/tables (or `dir`); returns their paths. */
export async function exportTable(
  rows: readonly Record<string, TableCell>[],
  name: string,
  options: { title?: string; dir?: string } = {},
): Promise<{ json: string; csv: string }> {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`exportTable: name ${JSON.stringify(name)} may use letters, digits, '_', '-' and '.' only`);
  if (rows.length === 0) throw new Error(`exportTable ${name}: no rows`);
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const cells = rows.map((row) => columns.map((c) => row[c] ?? null));
  const dir = options.dir ?? reportTablesDir();
  const table: ExportedTable = { schema: 'captioning-lab/table@1', name, title: options.title ?? name, columns, rows: cells };
  const json = path.join(dir, `${name}.json`);
  const csv = path.join(dir, `${name}.csv`);
  await writeFileAtomic(json, JSON.stringify(table, null, 1) + '\n');
  await writeFileAtomic(csv, toCsv(columns, cells));
  return { json, csv };
}

/** The exported tables of a folder, by name; a damaged file is an error naming it. */
export function readExportedTables(dir = reportTablesDir()): ExportedTable[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      let table: ExportedTable;
      try {
        table = JSON.parse(fs.readFileSync(file, 'utf8')) as ExportedTable;
      } catch (error) {
        throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
      }
      if (table.schema !== 'captioning-lab/table@1' || !Array.isArray(table.columns) || !Array.isArray(table.rows)) {
        throw new Error(`${file}: not an exported table (schema captioning-lab/table@1 with columns and rows)`);
      }
      if (table.rows.some((r) => !Array.isArray(r) || r.length !== table.columns.length)) throw new Error(`${file}: every row must have ${table.columns.length} cells`);
      return table;
    });
}
