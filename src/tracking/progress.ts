/**
 * Training progress: one line per epoch with its metrics, its time and the ETA of the run;
 * on a terminal, a progress bar over the epoch's steps as well (redrawn in place on stderr,
 * at most 10 times a second). In notebooks the epoch lines are enough.
 *
 *   [captioning-lab] baseline-3f2a9c1b7d0e epoch 3/5: loss 0.4123, val_loss 0.5012 (12.3 s; ETA 24.6 s)
 */

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

export interface ProgressReporter {
  epochStart(epoch: number): void;
  setSteps(count: number): void;
  step(stepInEpoch: number, values: Record<string, number>): void;
  /** Ends an epoch: its one line, with `note` (the job's words, e.g. "best so far") appended. */
  epochEnd(epoch: number, metrics: Record<string, number | null>, seconds: number, note?: string): void;
}

/** Seconds as `12.3 s`, `4 min 05 s` or `2 h 03 min`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(Math.round(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(seconds / 3600)} h ${String(Math.round((seconds % 3600) / 60)).padStart(2, '0')} min`;
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

export interface ProgressOptions {
  runId: string;
  epochs: number;
  /** The first epoch this attempt trains (a resume starts later). */
  startEpoch: number;
  mode?: ProgressMode;
  log: (line: string) => void;
  /** The stream a bar is drawn on (default process.stderr). */
  stream?: NodeJS.WriteStream;
}

export function createProgress(options: ProgressOptions): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const mode = options.mode ?? 'auto';
  const bar = mode === 'bar' || (mode === 'auto' && Boolean(stream.isTTY));
  const lines = mode !== 'none';
  const durations: number[] = [];
  let steps = 0;
  let lastDraw = 0;
  let drawn = false;
  let current = 0;

  const clearBar = () => {
    if (drawn) {
      stream.write('\r\x1b[K');
      drawn = false;
    }
  };

  return {
    epochStart(epoch) {
      current = epoch;
      steps = 0;
    },
    setSteps(count) {
      steps = count;
    },
    step(stepInEpoch, values) {
      if (!bar) return;
      const now = Date.now();
      if (now - lastDraw < 100 && stepInEpoch !== steps) return;
      lastDraw = now;
      const width = 24;
      const done = steps > 0 ? Math.min(1, stepInEpoch / steps) : 0;
      const filled = Math.round(done * width);
      const gauge = steps > 0 ? `[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${stepInEpoch}/${steps}` : `step ${stepInEpoch}`;
      stream.write(`\r\x1b[Kepoch ${current + 1}/${options.epochs} ${gauge} ${formatMetrics(values)}`);
      drawn = true;
    },
    epochEnd(epoch, metrics, seconds, note) {
      clearBar();
      durations.push(seconds);
      if (!lines) return;
      const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
      const remaining = options.epochs - (epoch + 1);
      const eta = remaining > 0 ? `; ETA ${formatDuration(mean * remaining)}` : '';
      options.log(
        `[captioning-lab] ${options.runId} epoch ${epoch + 1}/${options.epochs}: ${formatMetrics(metrics)} (${formatDuration(seconds)}${eta})${note ? `; ${note}` : ''}`,
      );
    },
  };
}
