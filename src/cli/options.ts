/**
 * Option values the subcommands share: read and checked, an error naming the flag.
 */

/** A whole number >= 1 given to `flag`, or an error naming the flag and the value. */
export function positiveInteger(flag: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a positive whole number, got ${JSON.stringify(raw)}`);
  return value;
}
