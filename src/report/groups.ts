/**
 * How the report groups runs: by name without the seed suffix, so the seeds of a model or an
 * ablation arm are one group (`baseline-s1`, `baseline-s2` -> `baseline`).
 */

/** A run's group: its name without the seed suffix (`ablation-alpha-c-1-s3` -> `ablation-alpha-c-1`). */
export function seedGroupName(name: string): string {
  return name.replace(/-s\d+$/, '');
}
