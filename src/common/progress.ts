/**
 * Progress of long phases (an epoch's steps, feature extraction, BERT vectors, free-running
 * decoding): the count done, the rate and the ETA, wherever the output goes.
 *
 * - On a terminal: a bar redrawn in place on stderr (at most 10 times a second), cleared
 *   before the phase's final line.
 * - Without one (a child process, a log file, CI): a plain line at most every 30 s
 *   (`intervalMs`), never repeating a count, and the phase's final line.
 * - In a tslab notebook cell: one output of the cell updated in place (src/common/
 *   live-display.ts), shared by the phases that run in that cell (one row each while it
 *   runs), and the final line to the log.
 *
 *   const progress = phaseProgress({ label: 'features', total: 1000, unit: 'images', log });
 *   for (...) progress.tick(16);
 *   progress.done();
 *   // features: 320/1000 images, 7.9 images/s, ETA 1 min 26 s          (every 30 s)
 *   // features: 1000/1000 images, 8.1 images/s, ETA 0 s; done in 2 min 03 s
 *
 * Training (createProgress, used by the run store) adds one line per epoch with its metrics,
 * its time and the ETA of the run:
 *
 *   [captioning-lab] baseline-3f2a9c1b7d0e epoch 3/5: 120/400 steps, 3.1 steps/s, ETA 1 min 30 s · loss 0.5123
 *   [captioning-lab] baseline-3f2a9c1b7d0e epoch 3/5: loss 0.4123, val_loss 0.5012 (12.3 s; ETA 24.6 s)
 */
import { kernelCell, type LiveDisplay, liveDisplay } from './live-display';

/**
 * auto: a notebook cell's live display in a tslab kernel, else a bar on a terminal, else
 * lines. bar / lines / display force one; none prints nothing.
 */
export type ProgressMode = 'auto' | 'bar' | 'lines' | 'display' | 'none';

/** The longest time between two progress lines when there is no terminal. */
export const PROGRESS_INTERVAL_MS = 30_000;

/** Least time between two redraws of a bar or a live display row. */
const REDRAW_MS = 100;

export interface ProgressReporter {
  epochStart(epoch: number): void;
  setSteps(count: number): void;
  step(stepInEpoch: number, values: Record<string, number>): void;
  /** Ends an epoch: its one line, with `note` (the job's words, e.g. "best so far") appended. */
  epochEnd(epoch: number, metrics: Record<string, number | null>, seconds: number, note?: string): void;
  /** Ends the reporter (the run stopped, finished or failed): clears its bar or live display row. Safe to call twice. */
  close?(): void;
}

/** Seconds as `12.3 s`, `4 min 05 s` or `2 h 03 min`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(Math.round(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(seconds / 3600)} h ${String(Math.round((seconds % 3600) / 60)).padStart(2, '0')} min`;
}

/** An ETA: whole seconds under a minute (`26 s`), else as formatDuration; `?` when unknown. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  return seconds < 59.5 ? `${Math.round(seconds)} s` : formatDuration(seconds);
}

/** A rate per second: `1234`, `7.9` or `0.42`; `?` when unknown. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '?';
  if (perSecond >= 100) return perSecond.toFixed(0);
  if (perSecond >= 1) return perSecond.toFixed(1);
  return perSecond.toPrecision(2);
}

/** A metric value for a log line: 4 significant digits. */
export function formatValue(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1000 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(3) : value.toPrecision(4);
}

function formatMetrics(metrics: Record<string, number | null>): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k} ${formatValue(v)}`)
    .join(', ');
}

// ---------------------------------------------------------------------------------------
// The notebook cell's live display, shared by the phases of one cell.

interface BoardRow {
  text: string;
  count: number;
  total: number;
}

interface Board {
  cell: object;
  display: LiveDisplay;
  rows: Map<object, BoardRow>;
  users: number;
  shown: boolean;
}

let board: Board | undefined;

/**
 * Joins the current cell's progress display: made on first use, kept for the cell (emptied
 * between phases, reused by the next one), so that a cell has one progress output however
 * many phases run in it. Undefined outside a kernel cell.
 */
function joinBoard(): Board | undefined {
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

function renderBoard(b: Board): void {
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

function leaveBoard(b: Board): void {
  b.users -= 1;
  if (b.users > 0) return;
  // Every phase has ended (each wrote its final line to the log): the output is left empty,
  // for the cell's next phase to reuse.
  b.rows.clear();
  renderBoard(b);
  if (board !== b) b.display.close();
}

// ---------------------------------------------------------------------------------------
// One phase.

export interface PhaseProgressOptions {
  /** What is being done, e.g. `features` or `decoding val (beam 3)`; starts every line. */
  label: string;
  /** How many units the phase has (unknown: no gauge and no ETA); `setTotal` may set it later. */
  total?: number;
  /** The unit counted, plural (default `items`). */
  unit?: string;
  /** Where plain lines and the final line go (default stderr; null: nothing at all). */
  log?: ((line: string) => void) | null;
  /** The stream a bar is drawn on (default process.stderr). */
  stream?: NodeJS.WriteStream;
  mode?: ProgressMode;
  /** The longest time between two plain lines (default 30 s). */
  intervalMs?: number;
  /** Also a plain line every this many units (default: by time only). */
  everyCount?: number;
  /** The clock (tests). */
  now?: () => number;
}

export interface PhaseProgress {
  /** `n` more units done (default 1); `values` (e.g. the loss) are shown after the rate. */
  tick(n?: number, values?: Record<string, number>): void;
  setTotal(total: number): void;
  /** Units done so far. */
  readonly count: number;
  /** Ends the phase with its final line (count, rate, time), `summary` appended. */
  done(summary?: string): void;
  /** Ends the phase with `line` instead of the final line (nothing when omitted); after done, does nothing. */
  end(line?: string): void;
}

type Output = 'bar' | 'lines' | 'display' | 'none';

function resolveOutput(mode: ProgressMode, stream: NodeJS.WriteStream): Output {
  if (mode === 'auto') return kernelCell() ? 'display' : stream.isTTY ? 'bar' : 'lines';
  if (mode === 'display') return kernelCell() ? 'display' : 'lines';
  return mode;
}

const stderrLine = (line: string) => {
  process.stderr.write(line + '\n');
};

export function phaseProgress(options: PhaseProgressOptions): PhaseProgress {
  const now = options.now ?? Date.now;
  const stream = options.stream ?? process.stderr;
  const log = options.log === undefined ? stderrLine : options.log;
  let output: Output = log === null ? 'none' : resolveOutput(options.mode ?? 'auto', stream);
  const emit = log ?? (() => {});
  const unit = options.unit ?? 'items';
  const interval = options.intervalMs ?? PROGRESS_INTERVAL_MS;
  const started = now();
  let total = options.total ?? 0;
  let count = 0;
  let values: Record<string, number> | undefined;
  let lastLine = started;
  let lastLineCount = 0;
  const every = options.everyCount !== undefined && options.everyCount > 0 ? options.everyCount : Infinity;
  let nextEvery = every;
  let lastDraw = -Infinity;
  let drawn = false;
  let ended = false;
  const key = {};
  let cellBoard: Board | undefined;
  if (output === 'display') {
    cellBoard = joinBoard();
    if (!cellBoard) output = 'lines';
  }

  const tail = (at: number) => {
    const seconds = (at - started) / 1000;
    // No rate (nor ETA) from nothing done or from less than a tenth of a second.
    const rate = count > 0 && seconds >= 0.1 ? count / seconds : NaN;
    const remaining = Math.max(0, total - count);
    const eta = total > 0 ? `, ETA ${formatEta(remaining === 0 ? 0 : remaining / rate)}` : '';
    const metrics = values && Object.keys(values).length > 0 ? ` · ${formatMetrics(values)}` : '';
    return `${formatRate(rate)} ${unit}/s${eta}${metrics}`;
  };
  const counted = () => (total > 0 ? `${count}/${total} ${unit}` : `${count} ${unit}`);
  const line = (at: number) => `${options.label}: ${counted()}, ${tail(at)}`;
  const gauge = () => {
    if (total <= 0) return '';
    const width = 24;
    const filled = Math.round(Math.min(1, count / total) * width);
    return `[${'='.repeat(filled)}${' '.repeat(width - filled)}] `;
  };

  const clearBar = () => {
    if (drawn) {
      stream.write('\r\x1b[K');
      drawn = false;
    }
  };

  const report = (force: boolean) => {
    const at = now();
    if (output === 'bar' || output === 'display') {
      if (!force && at - lastDraw < REDRAW_MS) return;
      lastDraw = at;
      const text = `${options.label} ${gauge()}${counted()}, ${tail(at)}`;
      if (output === 'bar') {
        const columns = stream.columns;
        stream.write(`\r\x1b[K${columns && text.length >= columns ? text.slice(0, columns - 1) : text}`);
        drawn = true;
      } else if (cellBoard) {
        cellBoard.rows.set(key, { text: `${options.label}: ${counted()}, ${tail(at)}`, count, total });
        renderBoard(cellBoard);
      }
      return;
    }
    if (output !== 'lines' || count === lastLineCount) return;
    // The last unit is reported by the final line, not by a line of its own.
    if (total > 0 && count >= total) return;
    if (at - lastLine >= interval || count >= nextEvery) {
      emit(line(at));
      lastLine = at;
      lastLineCount = count;
      while (nextEvery <= count) nextEvery += every;
    }
  };

  const finish = (final: string | undefined) => {
    if (ended) return;
    ended = true;
    if (output === 'bar') clearBar();
    if (cellBoard) {
      cellBoard.rows.delete(key);
      leaveBoard(cellBoard);
      cellBoard = undefined;
    }
    if (final !== undefined && output !== 'none') emit(final);
  };

  return {
    tick(n = 1, v) {
      if (ended) return;
      count += n;
      if (v) values = v;
      report(total > 0 && count >= total);
    },
    setTotal(t) {
      total = t;
    },
    get count() {
      return count;
    },
    done(summary) {
      const at = now();
      const seconds = (at - started) / 1000;
      const how = total > 0 && count < total ? 'ended' : 'done';
      finish(`${line(at)}; ${how} in ${formatDuration(seconds)}${summary ? `; ${summary}` : ''}`);
    },
    end(text) {
      finish(text);
    },
  };
}

// ---------------------------------------------------------------------------------------
// Training epochs.

export interface ProgressOptions {
  runId: string;
  epochs: number;
  /** The first epoch this attempt trains (a resume starts later). */
  startEpoch: number;
  mode?: ProgressMode;
  log: (line: string) => void;
  /** The stream a bar is drawn on (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** The longest time between two step lines when there is no terminal (default 30 s). */
  intervalMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/**
 * The run store's reporter: within an epoch, a phase over its steps (bar, lines every 30 s or
 * the cell's live display; the latest step values after the rate); at its end, the epoch's
 * one line. In a notebook cell the reporter keeps the cell's live display for the whole run
 * (the free-running validation between epochs shows in it too) until `close` or the last
 * epoch.
 */
export function createProgress(options: ProgressOptions): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const mode = options.mode ?? 'auto';
  const output = resolveOutput(mode, stream);
  const lines = mode !== 'none';
  const durations: number[] = [];
  let phase: PhaseProgress | undefined;
  let held: Board | undefined = output === 'display' ? joinBoard() : undefined;

  const release = () => {
    phase?.end();
    phase = undefined;
    if (held) leaveBoard(held);
    held = undefined;
  };

  return {
    epochStart(epoch) {
      phase?.end();
      phase = phaseProgress({
        label: `[captioning-lab] ${options.runId} epoch ${epoch + 1}/${options.epochs}`,
        unit: 'steps',
        log: options.log,
        stream,
        mode: output === 'display' && !held ? 'lines' : output,
        intervalMs: options.intervalMs,
        now: options.now,
      });
    },
    setSteps(count) {
      phase?.setTotal(count);
    },
    step(stepInEpoch, values) {
      if (!phase) return;
      phase.tick(stepInEpoch - phase.count, values);
    },
    epochEnd(epoch, metrics, seconds, note) {
      phase?.end();
      phase = undefined;
      durations.push(seconds);
      if (lines) {
        const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
        const remaining = options.epochs - (epoch + 1);
        const eta = remaining > 0 ? `; ETA ${formatDuration(mean * remaining)}` : '';
        options.log(
          `[captioning-lab] ${options.runId} epoch ${epoch + 1}/${options.epochs}: ${formatMetrics(metrics)} (${formatDuration(seconds)}${eta})${note ? `; ${note}` : ''}`,
        );
      }
      if (epoch + 1 >= options.epochs) release();
    },
    close: release,
  };
}
