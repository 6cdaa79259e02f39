/**
 * A sweep expanded into run requests: for each arm, each point of the grid over the axes (or
 * the seeded sample of it), each of the arm's seeds, one request whose config is the profile,
 * the variant (the arm's, else the sweep's), the sweep's `set`, the arm's `set`, the point's
 * values and the seed, resolved and checked. Arms whose `when` does not hold for the resolved
 * config (a scenes-only study on COCO) are left out. Names follow the sweep's `runName`.
 *
 *   const requests = expandSweep(readSweepFile('sweeps/ablations.yaml'));
 *   await trainRuns(requests);                       // the local executor
 */
import { createRng } from '../common/random';
import { type CaptionerConfig, dottedOverride, resolveConfig, VARIANTS, type VariantName } from '../config';
import type { RunRequest } from '../train/parallel';
import type { Sweep, SweepArm } from './sweep-file';

export interface SweepRequest extends RunRequest {
  /** Its place in the sweep's expansion (0, 1, …). */
  index: number;
  arm: SweepArm;
  seed: number;
  /** The grid point: config keys to values, in the axes' order. */
  point: Record<string, unknown>;
}

/** Makes a run's config from a variant and overrides (default: the sweep's profile; a notebook passes its parameters' own). */
export type ConfigMaker = (variant: VariantName, ...overrides: Record<string, unknown>[]) => CaptionerConfig;

/** Every run request of the sweep, in order: arm, grid point, seed. */
export function expandSweep(sweep: Sweep, configOf: ConfigMaker = (variant, ...overrides) => resolveConfig(sweep.profile, VARIANTS[variant], ...overrides)): SweepRequest[] {
  const points = sampled(sweep, grid(sweep.axes));
  const requests: SweepRequest[] = [];
  const names = new Map<string, string>();
  for (const arm of sweep.arms) {
    const seeds = arm.seeds === 'all' ? sweep.seeds : arm.seeds === 'first' ? sweep.seeds.slice(0, 1) : arm.seeds;
    for (const point of points) {
      for (const seed of seeds) {
        const where = `${sweep.file}: arm ${JSON.stringify(arm.name)}${Object.keys(point).length > 0 ? `, ${JSON.stringify(point)}` : ''}, seed ${seed}`;
        let config: CaptionerConfig;
        try {
          config = configOf(arm.variant ?? sweep.variant, dottedOverride(sweep.set), dottedOverride(arm.set), dottedOverride(point), { seed });
        } catch (error) {
          throw new Error(`${where}: ${(error as Error).message}`);
        }
        if (!holds(config, arm.when)) continue;
        const name = runName(sweep, arm, point, seed);
        const clash = names.get(name);
        if (clash) throw new Error(`${sweep.file}: runName ${JSON.stringify(sweep.runName)} gives ${JSON.stringify(name)} to two runs (${clash}; ${where}); add {arm}, {axes} or {seed}`);
        names.set(name, where);
        requests.push({ index: requests.length, name, config, arm, seed, point });
      }
    }
  }
  return requests;
}

/** The grid: every combination of the axes' values, the first axis varying slowest. */
function grid(axes: readonly [string, unknown[]][]): Record<string, unknown>[] {
  return axes.reduce<Record<string, unknown>[]>((points, [key, values]) => points.flatMap((p) => values.map((v) => ({ ...p, [key]: v }))), [{}]);
}

/** `sample.count` of the points, drawn with the sample's seed, kept in grid order. */
function sampled(sweep: Sweep, points: Record<string, unknown>[]): Record<string, unknown>[] {
  if (!sweep.sample) return points;
  if (sweep.sample.count > points.length) throw new Error(`${sweep.file}: sample.count is ${sweep.sample.count}, but the grid has ${points.length} points`);
  const order = createRng(`sweep-sample:${sweep.sample.seed}`).shuffle(points.map((_, i) => i));
  const chosen = new Set(order.slice(0, sweep.sample.count));
  return points.filter((_, i) => chosen.has(i));
}

/** Whether the resolved config has each dotted key's value. */
function holds(config: CaptionerConfig, when: Readonly<Record<string, unknown>>): boolean {
  return Object.entries(when).every(([key, value]) => {
    const actual = key.split('.').reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part], config);
    return JSON.stringify(actual) === JSON.stringify(value);
  });
}

function slug(value: unknown): string {
  return String(typeof value === 'object' ? JSON.stringify(value) : value)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** The run's name from the sweep's template: {sweep}, {arm}, {axes} ("-hidden-128-…", empty without axes), {seed}. */
function runName(sweep: Sweep, arm: SweepArm, point: Record<string, unknown>, seed: number): string {
  const axes = Object.entries(point)
    .map(([key, value]) => `-${slug(key.split('.').pop())}-${slug(value)}`)
    .join('');
  return sweep.runName.replace(/\{sweep\}/g, sweep.name).replace(/\{arm\}/g, slug(arm.name)).replace(/\{axes\}/g, axes).replace(/\{seed\}/g, String(seed));
}
