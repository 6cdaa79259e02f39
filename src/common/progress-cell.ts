/**
 * The notebook cell's progress display, shared by the phases that run in that cell: one
 * output of the cell updated in place (live-display.ts), one row per running phase (its
 * text and a `<progress>` gauge), emptied between phases and reused by the next one, so
 * that a cell has one progress output however many phases run in it.
 *
 *   const board = joinCellBoard();   // undefined outside a kernel cell: print lines instead
 *   board.rows.set(key, { text: 'features: 320/1000 images, …', count: 320, total: 1000 });
 *   renderCellBoard(board);
 *   board.rows.delete(key);          // the phase ended
 *   leaveCellBoard(board);           // the last phase out leaves the output empty
 */
import { kernelCell, type LiveDisplay, liveDisplay } from './live-display';

export interface CellBoardRow {
  text: string;
  count: number;
  total: number;
}

export interface CellBoard {
  cell: object;
  display: LiveDisplay;
  /** One row per phase, by a key of the phase's own. */
  rows: Map<object, CellBoardRow>;
  users: number;
  shown: boolean;
}

let board: CellBoard | undefined;

/**
 * Joins the current cell's progress display: made on first use, kept for the cell (emptied
 * between phases, reused by the next one), so that a cell has one progress output however
 * many phases run in it. Undefined outside a kernel cell.
 */
export function joinCellBoard(): CellBoard | undefined {
  const cell = kernelCell();
  if (!cell) return undefined;
  if (!board || board.cell !== cell) {
    const display = liveDisplay();
    if (!display) return undefined;
    board?.display.close(); // the previous cell's: its last text is sent
    board = { cell, display, rows: new Map(), users: 0, shown: false };
  }
  board.users += 1;
  return board;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Sends the board's rows to the cell (nothing while it has never shown a row). */
export function renderCellBoard(b: CellBoard): void {
  const rows = [...b.rows.values()];
  if (rows.length === 0 && !b.shown) return;
  b.shown = true;
  const html = rows
    .map((r) => {
      const gauge = r.total > 0 ? `<progress max="${r.total}" value="${Math.min(r.count, r.total)}" style="width: 10em; vertical-align: middle"></progress> ` : '';
      return `<div class="captioning-progress" style="font-family: monospace; white-space: pre">${gauge}${escapeHtml(r.text)}</div>`;
    })
    .join('');
  b.display.update(rows.map((r) => r.text).join('\n'), html);
}

/** Leaves the board (after deleting one's row): the last user out empties it. */
export function leaveCellBoard(b: CellBoard): void {
  b.users -= 1;
  if (b.users > 0) return;
  // Every phase has ended (each wrote its final line to the log): the output is left empty,
  // for the cell's next phase to reuse.
  b.rows.clear();
  renderCellBoard(b);
  if (board !== b) b.display.close();
}
