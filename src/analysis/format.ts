/**
 * How the analysis prints differences, in one place: a signed number, and a difference with
 * its interval.
 *
 *   signed(-0.0123);                 // '-0.0123'
 *   formatDifference(bleu4);         // '+0.0123 [-0.0040, +0.0290]'
 */
import type { PairedDifference } from './bootstrap';

/** A number with its sign: '+0.0123', '-0.0040'. */
export function signed(x: number, digits = 4): string {
  return `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(digits)}`;
}

/** "+0.0123 [-0.0040, +0.0290]": the difference on the test set and its interval, optionally scaled (100 for BLEU as papers print it). */
export function formatDifference(d: Pick<PairedDifference, 'difference' | 'low' | 'high'>, digits = 4, scale = 1): string {
  return `${signed(scale * d.difference, digits)} [${signed(scale * d.low, digits)}, ${signed(scale * d.high, digits)}]`;
}
