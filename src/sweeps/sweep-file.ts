/**
 * A sweep as data (issue #17): a file, JSON or YAML, that says which runs to train. A base
 * (profile, variant, `set` values), axes (a grid over config keys, and seeds), optionally
 * arms (named alternatives that change several things at once, as ablation studies do) and a
 * seeded random sample of the grid, a name, the metric the sweep is judged by, and how a
 * cluster should run it. Every error names the file and the key at fault.
 *
 *   name: hidden-size
 *   metric: test BLEU-4 (free-running, beam 3)
 *   profile: quick
 *   variant: baseline
 *   set: { train.epochs: 3 }
 *   seeds: [1, 2]
 *   axes: { decoder.hidden: [128, 256] }
 *   arms:                                  # optional; each arm runs on the grid
 *     - { name: learned (reference), seeds: all }
 *     - { name: BERT static, variant: bert, set: { words.bert.mode: static }, seeds: first }
 *   sample: { count: 3, seed: 7 }          # optional: 3 of the grid's points, seeded
 *   runName: "{sweep}-{arm}-s{seed}"       # optional; {axes} spells the axes' values
 *   slurm: { partition: gpu, time: "04:00:00", cpusPerTask: 4, gpus: 1, mem: 32G, maxParallel: 8, extra: ["--account=lab"] }
 *
 * `set` and `axes` keys are dotted config keys (as `--set` takes them), checked against the
 * config schema here; the values are checked when each run's config is resolved (expand.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';

import { PROFILE_NAMES, type ProfileName, ruleOf, VARIANT_NAMES, type VariantName } from '../config';

/** Which of the sweep's seeds an arm runs: all, the first, or its own list. */
export type ArmSeeds = 'all' | 'first' | number[];

export interface SweepArm {
  name: string;
  /** A label grouping arms (an ablation study); free text. */
  study?: string;
  variant?: VariantName;
  /** Dotted config keys to values, applied after the sweep's own `set`. */
  set: Record<string, unknown>;
  seeds: ArmSeeds;
  /** The arm runs only where these dotted keys of the resolved config have these values (e.g. data.source: scenes). */
  when: Record<string, unknown>;
}

/** How the Slurm executor submits the sweep (flags of `sweep run` override each). */
export interface SlurmSettings {
  partition?: string;
  time?: string;
  cpusPerTask?: number;
  gpus?: number;
  mem?: string;
  /** Array tasks running at once (`--array=0-N%K`). */
  maxParallel?: number;
  /** Further sbatch options, one each (e.g. `--account=lab`, `--qos=short`). */
  extra: string[];
}

export interface Sweep {
  /** Where it was read from (absolute). */
  file: string;
  name: string;
  description?: string;
  /** The metric the sweep is judged by (shown by `sweep plan` and `sweep status`). */
  metric: string;
  profile: ProfileName;
  variant: VariantName;
  set: Record<string, unknown>;
  seeds: number[];
  /** Config keys to their values, in the file's order: the grid is their product. */
  axes: [string, unknown[]][];
  arms: SweepArm[];
  sample?: { count: number; seed: number };
  runName: string;
  slurm: SlurmSettings;
}

/** A sweep file that cannot be used: the message names the file and the key. */
export class SweepFileError extends Error {
  constructor(file: string, key: string, problem: string) {
    super(`${file}: ${key ? `${key}: ` : ''}${problem}`);
    this.name = 'SweepFileError';
  }
}

const DEFAULT_RUN_NAME = '{sweep}-{arm}{axes}-s{seed}';
const TOP_KEYS = ['name', 'description', 'metric', 'profile', 'variant', 'set', 'seeds', 'axes', 'arms', 'sample', 'runName', 'slurm'];
const ARM_KEYS = ['name', 'study', 'variant', 'set', 'seeds', 'when'];
const SLURM_KEYS = ['partition', 'time', 'cpusPerTask', 'gpus', 'mem', 'maxParallel', 'extra'];

/** Reads and checks a sweep file (.json, .yaml or .yml). */
export function readSweepFile(file: string): Sweep {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(absolute, 'utf8');
  } catch (error) {
    throw new SweepFileError(file, '', `cannot read it (${(error as Error).message})`);
  }
  const ext = path.extname(file).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(ext)) throw new SweepFileError(file, '', `not a sweep file: the extension should be .json, .yaml or .yml, got ${JSON.stringify(ext)}`);
  let value: unknown;
  try {
    value = ext === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new SweepFileError(file, '', `not a valid ${ext === '.json' ? 'JSON' : 'YAML'} file (${(error as Error).message})`);
  }
  return checkSweep(value, absolute, file);
}

/** Checks a parsed sweep (`shown`: the file's name in messages). */
export function checkSweep(value: unknown, file: string, shown = file): Sweep {
  const fail = (key: string, problem: string): never => {
    throw new SweepFileError(shown, key, problem);
  };
  const top = record(value, '', fail);
  unknownKeys(top, TOP_KEYS, '', fail);
  const name = text(top.name, 'name', fail);
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) fail('name', `should be letters, digits, '.', '_' or '-' (it names files and jobs), got ${JSON.stringify(name)}`);
  const profile = (top.profile ?? 'quick') as ProfileName;
  if (!PROFILE_NAMES.includes(profile)) fail('profile', `should be one of ${PROFILE_NAMES.join(', ')}, got ${JSON.stringify(top.profile)}`);
  const variant = variantOf(top.variant, 'variant', fail) ?? 'baseline';
  const seeds = top.seeds === undefined ? [1] : integers(top.seeds, 'seeds', fail);
  if (seeds.length === 0) fail('seeds', 'give at least one seed');
  const axes = Object.entries(top.axes === undefined ? {} : record(top.axes, 'axes', fail)).map(([key, values]): [string, unknown[]] => {
    configKey(key, `axes.${key}`, fail);
    if (key === 'seed') fail(`axes.${key}`, "seeds have their own key: 'seeds: [1, 2]'");
    if (!Array.isArray(values) || values.length === 0) fail(`axes.${key}`, `should be a non-empty list of values, got ${JSON.stringify(values)}`);
    return [key, values as unknown[]];
  });
  const arms = top.arms === undefined ? [{ name: 'base', set: {}, seeds: 'all' as const, when: {} }] : armsOf(top.arms, fail);
  const sweep: Sweep = {
    file,
    name,
    metric: text(top.metric, 'metric', fail),
    profile,
    variant,
    set: settings(top.set, 'set', fail),
    seeds,
    axes,
    arms,
    runName: top.runName === undefined ? DEFAULT_RUN_NAME : text(top.runName, 'runName', fail),
    slurm: slurmOf(top.slurm, fail),
  };
  if (top.description !== undefined) sweep.description = text(top.description, 'description', fail);
  if (top.sample !== undefined) {
    const sample = record(top.sample, 'sample', fail);
    unknownKeys(sample, ['count', 'seed'], 'sample', fail);
    sweep.sample = { count: positive(sample.count, 'sample.count', fail), seed: integers([sample.seed], 'sample.seed', fail)[0] };
  }
  for (const placeholder of sweep.runName.match(/\{[^}]*\}/g) ?? []) {
    if (!['{sweep}', '{arm}', '{axes}', '{seed}'].includes(placeholder)) fail('runName', `unknown placeholder ${placeholder}; use {sweep}, {arm}, {axes}, {seed}`);
  }
  return sweep;
}

type Fail = (key: string, problem: string) => never;

function record(value: unknown, key: string, fail: Fail): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(key, `should be a mapping of keys to values, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

function unknownKeys(value: Record<string, unknown>, known: readonly string[], at: string, fail: Fail): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(at ? `${at}.${key}` : key, `unknown key; known: ${known.join(', ')}`);
  }
}

function text(value: unknown, key: string, fail: Fail): string {
  if (typeof value !== 'string' || value.trim() === '') return fail(key, `should be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

function positive(value: unknown, key: string, fail: Fail): number {
  if (!Number.isInteger(value) || (value as number) < 1) return fail(key, `should be a whole number >= 1, got ${JSON.stringify(value)}`);
  return value as number;
}

function integers(value: unknown, key: string, fail: Fail): number[] {
  if (!Array.isArray(value) || value.some((v) => !Number.isInteger(v))) return fail(key, `should be a list of whole numbers, got ${JSON.stringify(value)}`);
  return value as number[];
}

function variantOf(value: unknown, key: string, fail: Fail): VariantName | undefined {
  if (value === undefined) return undefined;
  if (!VARIANT_NAMES.includes(value as VariantName)) fail(key, `should be one of ${VARIANT_NAMES.join(', ')}, got ${JSON.stringify(value)}`);
  return value as VariantName;
}

/** A dotted config key the schema knows (the schema's own error, prefixed with where it was found). */
function configKey(key: string, at: string, fail: Fail): void {
  try {
    ruleOf(key);
  } catch (error) {
    fail(at, (error as Error).message);
  }
}

/** `set`-style values: dotted config keys to values. */
function settings(value: unknown, key: string, fail: Fail): Record<string, unknown> {
  if (value === undefined) return {};
  const values = record(value, key, fail);
  for (const k of Object.keys(values)) configKey(k, `${key}.${k}`, fail);
  return values;
}

function armsOf(value: unknown, fail: Fail): SweepArm[] {
  if (!Array.isArray(value) || value.length === 0) return fail('arms', `should be a non-empty list of arms, got ${JSON.stringify(value)}`);
  const names = new Set<string>();
  return value.map((raw, i) => {
    const at = `arms[${i}]`;
    const arm = record(raw, at, fail);
    unknownKeys(arm, ARM_KEYS, at, fail);
    const name = text(arm.name, `${at}.name`, fail);
    if (names.has(name)) fail(`${at}.name`, `${JSON.stringify(name)} names another arm too`);
    names.add(name);
    let seeds: ArmSeeds = 'all';
    if (arm.seeds === 'all' || arm.seeds === 'first') seeds = arm.seeds;
    else if (arm.seeds !== undefined) seeds = integers(arm.seeds, `${at}.seeds`, fail);
    const variant = variantOf(arm.variant, `${at}.variant`, fail);
    return {
      name,
      ...(arm.study !== undefined ? { study: text(arm.study, `${at}.study`, fail) } : {}),
      ...(variant ? { variant } : {}),
      set: settings(arm.set, `${at}.set`, fail),
      seeds,
      when: settings(arm.when, `${at}.when`, fail),
    };
  });
}

function slurmOf(value: unknown, fail: Fail): SlurmSettings {
  if (value === undefined) return { extra: [] };
  const slurm = record(value, 'slurm', fail);
  unknownKeys(slurm, SLURM_KEYS, 'slurm', fail);
  const out: SlurmSettings = { extra: [] };
  for (const key of ['partition', 'time', 'mem'] as const) if (slurm[key] !== undefined) out[key] = text(String(slurm[key]), `slurm.${key}`, fail);
  for (const key of ['cpusPerTask', 'gpus', 'maxParallel'] as const) if (slurm[key] !== undefined) out[key] = positive(slurm[key], `slurm.${key}`, fail);
  if (slurm.extra !== undefined) {
    if (!Array.isArray(slurm.extra) || slurm.extra.some((e) => typeof e !== 'string' || !e.startsWith('--'))) fail('slurm.extra', `should be a list of sbatch options such as "--account=lab", got ${JSON.stringify(slurm.extra)}`);
    out.extra = slurm.extra as string[];
  }
  return out;
}
