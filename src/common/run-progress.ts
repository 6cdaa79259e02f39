/**
 * Progress of a training run (createProgress, used by the run store): within an epoch, a
 * phase over its steps (phase-progress.ts); at its end, one line per epoch with its metrics,
 * its time and the ETA of the run (the mean epoch time times the epochs left):
 *
 *   [captioning-lab] baseline-3f2a9c1b7d0e epoch 3/5: 120/400 steps, 3.1 steps/s, ETA 1 min 30 s · loss 0.5123
 *   [captioning-lab] baseline-3f2a9c1b7d0e epoch 3/5: loss 0.4123, val_loss 0.5012 (12.3 s; ETA 24.6 s)
 */
import { type PhaseProgress, phaseProgress, type ProgressMode, resolveOutput } from './phase-progress';
import { type CellBoard, joinCellBoard, leaveCellBoard } from './progress-cell';
import { formatDuration, formatMetrics } from './progress-text';

export interface ProgressReporter {
  epochStart(epoch: number): void;
  setSteps(count: number): void;
  step(stepInEpoch: number, values: Record<string, number>): void;
  /** Ends an epoch: its one line, with `note` (the job's words, e.g. "best so far") appended. */
  epochEnd(epoch: number, metrics: Record<string, number | null>, seconds: number, note?: string): void;
  /** Ends the reporter (the run stopped, finished or failed): clears its bar or live display row. Safe to call twice. */
  close?(): void;
}

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
  let held: CellBoard | undefined = output === 'display' ? joinCellBoard() : undefined;

  const release = () => {
    phase?.end();
    phase = undefined;
    if (held) leaveCellBoard(held);
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
