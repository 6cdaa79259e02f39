/**
 * The words and numbers of progress output (phase-progress.ts, run-progress.ts): durations,
 * ETAs, rates, metric values, and a phase's count, rate, ETA and gauge at one moment.
 *
 *   formatDuration(123);   // '2 min 03 s'
 *   formatEta(26.4);       // '26 s'
 *   formatRate(7.94);      // '7.9'
 *   formatRateAndEta({ count: 320, total: 1000, unit: 'images', seconds: 40.5 });
 *   // '7.9 images/s, ETA 1 min 26 s'
 *
 * The rate is the count over the time since the phase started; the ETA is what remains at
 * that rate.
 */

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

/** Metrics as `loss 0.5123, val_loss null`. */
export function formatMetrics(metrics: Record<string, number | null>): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k} ${formatValue(v)}`)
    .join(', ');
}

/** What a phase has done at one moment. */
export interface PhaseSnapshot {
  /** Units done. */
  count: number;
  /** Units in the phase (0: unknown). */
  total: number;
  /** The unit counted, plural. */
  unit: string;
  /** Seconds since the phase started. */
  seconds: number;
  /** The latest values (e.g. the loss), shown after the rate. */
  values?: Record<string, number>;
}

/** `320/1000 images`, or `320 images` when the total is unknown. */
export function formatCount(s: Pick<PhaseSnapshot, 'count' | 'total' | 'unit'>): string {
  return s.total > 0 ? `${s.count}/${s.total} ${s.unit}` : `${s.count} ${s.unit}`;
}

/** `7.9 images/s, ETA 1 min 26 s · loss 0.5123` (no ETA when the total is unknown). */
export function formatRateAndEta(s: PhaseSnapshot): string {
  // No rate (nor ETA) from nothing done or from less than a tenth of a second.
  const rate = s.count > 0 && s.seconds >= 0.1 ? s.count / s.seconds : NaN;
  const remaining = Math.max(0, s.total - s.count);
  const eta = s.total > 0 ? `, ETA ${formatEta(remaining === 0 ? 0 : remaining / rate)}` : '';
  const metrics = s.values && Object.keys(s.values).length > 0 ? ` · ${formatMetrics(s.values)}` : '';
  return `${formatRate(rate)} ${s.unit}/s${eta}${metrics}`;
}

/** A terminal gauge `[=========               ] ` of 24 cells; empty when the total is unknown. */
export function formatGauge(count: number, total: number): string {
  if (total <= 0) return '';
  const width = 24;
  const filled = Math.round(Math.min(1, count / total) * width);
  return `[${'='.repeat(filled)}${' '.repeat(width - filled)}] `;
}
