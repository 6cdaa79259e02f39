/**
 * Tables for display: a danfojs DataFrame (or any `{ columns, values }`), a run table
 * (`{ columns, rows }` of objects) or a list of records, as an HTML table for notebooks and
 * fixed-width text for terminals and `text/plain`.
 *
 *   textTable(tableOf(df))   // id          BLEU-4 (test, free-running, beam 3)
 *                            // baseline-…  0.2110
 */

export type TableCell = string | number | boolean | null | undefined;

export interface TableData {
  columns: string[];
  rows: TableCell[][];
  /** Row labels (a DataFrame's index) when they are not 0, 1, 2, … */
  index?: (string | number)[];
}

/** Has the shape of a danfojs DataFrame: `columns` and row-major `values`. */
export function isDataFrameLike(x: unknown): x is { columns: string[]; values: unknown[]; index?: unknown[] } {
  if (x === null || typeof x !== 'object') return false;
  const o = x as { columns?: unknown; values?: unknown; shape?: unknown };
  return Array.isArray(o.columns) && Array.isArray(o.values) && Array.isArray(o.shape);
}

/** Has the shape of a run table: `columns` and `rows` of objects. */
export function isRowTable(x: unknown): x is { columns: string[]; rows: Record<string, TableCell>[] } {
  if (x === null || typeof x !== 'object') return false;
  const o = x as { columns?: unknown; rows?: unknown };
  return Array.isArray(o.columns) && Array.isArray(o.rows) && (o.rows as unknown[]).every((r) => r !== null && typeof r === 'object' && !Array.isArray(r));
}

function toCell(v: unknown): TableCell {
  if (v === null || v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v as TableCell;
  return JSON.stringify(v);
}

/** Normalises a DataFrame, a run table or records into columns and rows of cells. */
export function tableOf(x: unknown): TableData {
  if (isDataFrameLike(x)) {
    const rows = (x.values as unknown[]).map((r) => (Array.isArray(r) ? r.map(toCell) : [toCell(r)]));
    const index = Array.isArray(x.index) ? (x.index as (string | number)[]) : undefined;
    const trivial = !index || index.every((v, i) => v === i);
    return { columns: x.columns.map(String), rows, ...(trivial ? {} : { index }) };
  }
  if (isRowTable(x)) return { columns: x.columns, rows: x.rows.map((r) => x.columns.map((c) => toCell(r[c]))) };
  if (Array.isArray(x) && x.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) {
    const columns: string[] = [];
    for (const r of x as Record<string, unknown>[]) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
    return { columns, rows: (x as Record<string, unknown>[]).map((r) => columns.map((c) => toCell(r[c]))) };
  }
  throw new Error('not a table: expected a danfojs DataFrame, { columns, rows } or an array of records');
}

/** A cell as text: numbers with at most 4 decimals (integers whole), missing values empty. */
export function formatCell(v: TableCell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    if (Math.abs(v) < 1e-4) return v.toExponential(2);
    return String(Number(v.toFixed(4)));
  }
  return String(v);
}

function clip(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** Fixed-width text; columns wider than `maxColumnWidth` are cut with '…'. */
export function textTable(table: TableData, options: { maxRows?: number; maxColumnWidth?: number } = {}): string {
  const maxRows = options.maxRows ?? 50;
  const width = options.maxColumnWidth ?? 40;
  const header = table.index ? ['', ...table.columns] : table.columns;
  const body = table.rows.slice(0, maxRows).map((r, i) => [...(table.index ? [String(table.index[i])] : []), ...r.map(formatCell)]);
  const widths = header.map((h, c) => Math.min(width, Math.max(h.length, ...body.map((r) => r[c].length))));
  const numeric = header.map((_, c) => body.length > 0 && body.every((r) => r[c] === '' || /^-?[\d.]+(e[-+]?\d+)?$/.test(r[c])));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (numeric[c] ? clip(cell, widths[c]).padStart(widths[c]) : clip(cell, widths[c]).padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  const lines = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  if (table.rows.length > maxRows) lines.push(`… ${table.rows.length - maxRows} more row(s)`);
  if (table.rows.length === 0) lines.push('(no rows)');
  return lines.join('\n') + '\n';
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An HTML table (the markup JupyterLab styles like pandas' tables). */
export function htmlTable(table: TableData, options: { maxRows?: number; caption?: string } = {}): string {
  const maxRows = options.maxRows ?? 200;
  const head = [...(table.index ? [''] : []), ...table.columns].map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = table.rows
    .slice(0, maxRows)
    .map((r, i) => {
      const label = table.index ? `<th>${escapeHtml(String(table.index[i]))}</th>` : '';
      const cells = r.map((v) => `<td${typeof v === 'number' ? ' style="text-align:right"' : ''}>${escapeHtml(formatCell(v))}</td>`).join('');
      return `<tr>${label}${cells}</tr>`;
    })
    .join('\n');
  const more = table.rows.length > maxRows ? `\n<p>… ${table.rows.length - maxRows} more row(s)</p>` : '';
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : '';
  return `<table class="dataframe">${caption}\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>${more}`;
}
