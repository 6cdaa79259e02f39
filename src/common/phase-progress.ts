/**
 * Progress of long phases (an epoch's steps, feature extraction, BERT vectors, free-running
 * decoding): the count done, the rate and the ETA (progress-text.ts), wherever the output
 * goes.
 *
 * - On a terminal: a bar redrawn in place on stderr (at most 10 times a second), cleared
 *   before the phase's final line.
 * - Without one (a child process, a log file, CI): a plain line at most every 30 s
 *   (`intervalMs`), never repeating a count, and the phase's final line.
 * - In a tslab notebook cell: one output of the cell updated in place (src/common/
 *   live-display.ts), shared by the phases that run in that cell (one row each while it
 *   runs; progress-cell.ts), and the final line to the log.
 *
 *   const progress = phaseProgress({ label: 'features', total: 1000, unit: 'images', log });
 *   for (...) progress.tick(16);
 *   progress.done();
 *   // features: 320/1000 images, 7.9 images/s, ETA 1 min 26 s          (every 30 s)
 *   // features: 1000/1000 images, 8.1 images/s, ETA 0 s; done in 2 min 03 s
 */
import { kernelCell } from './live-display';
import { type CellBoard, joinCellBoard, leaveCellBoard, renderCellBoard } from './progress-cell';
import { formatCount, formatDuration, formatGauge, formatRateAndEta } from './progress-text';

/**
 * auto: a notebook cell's live display in a tslab kernel, else a bar on a terminal, else
 * lines. bar / lines / display force one; none prints nothing.
 */
export type ProgressMode = 'auto' | 'bar' | 'lines' | 'display' | 'none';

/** The longest time between two progress lines when there is no terminal. */
export const PROGRESS_INTERVAL_MS = 30_000;

/** Least time between two redraws of a bar or a live display row. */
const REDRAW_MS = 100;

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

/** Where progress goes, once `auto` and `display` are settled. */
export type ProgressOutput = 'bar' | 'lines' | 'display' | 'none';

export function resolveOutput(mode: ProgressMode, stream: NodeJS.WriteStream): ProgressOutput {
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
  let output: ProgressOutput = log === null ? 'none' : resolveOutput(options.mode ?? 'auto', stream);
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
  let cellBoard: CellBoard | undefined;
  if (output === 'display') {
    cellBoard = joinCellBoard();
    if (!cellBoard) output = 'lines';
  }

  const tail = (at: number) => formatRateAndEta({ count, total, unit, seconds: (at - started) / 1000, values });
  const counted = () => formatCount({ count, total, unit });
  const line = (at: number) => `${options.label}: ${counted()}, ${tail(at)}`;

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
      const text = `${options.label} ${formatGauge(count, total)}${counted()}, ${tail(at)}`;
      if (output === 'bar') {
        const columns = stream.columns;
        stream.write(`\r\x1b[K${columns && text.length >= columns ? text.slice(0, columns - 1) : text}`);
        drawn = true;
      } else if (cellBoard) {
        cellBoard.rows.set(key, { text: `${options.label}: ${counted()}, ${tail(at)}`, count, total });
        renderCellBoard(cellBoard);
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
      leaveCellBoard(cellBoard);
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
