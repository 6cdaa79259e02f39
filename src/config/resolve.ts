/**
 * A config from its parts: the defaults, a profile, then overrides in order (objects, or
 * `key=value` settings from the command line's `--set`), merged and validated.
 *
 *   const config = resolveConfig('quick');                                   // the defaults
 *   const paper = resolveConfig('paper', { train: { epochs: 10 } });         // a small override
 *   const tweaked = resolveConfig('quick', parseSettings(['decoder.hidden=128', 'decoder.gate=scalar']));
 *   resolveConfig('quick', { decoder: { hiden: 1 } });   // Error: config key "decoder.hiden" is unknown; known keys: …
 */
import { DEFAULT_CONFIG, PROFILE_NAMES, PROFILES, type ProfileName } from './profiles';
import { type Rule, ruleOf, SCHEMA, validateConfig } from './schema';
import type { CaptionerConfig, ConfigOverride } from './types';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge of an override onto a base; arrays and { mean, std } replace, never merge. Unknown keys are kept (validation names them). */
function merge(base: unknown, override: unknown, rule: Rule | undefined): unknown {
  if (override === undefined) return structuredCloneJson(base);
  if (rule?.type === 'object' && isPlainObject(base) && isPlainObject(override)) {
    const out: Record<string, unknown> = {};
    for (const k of new Set([...Object.keys(base), ...Object.keys(override)])) out[k] = merge(base[k], override[k], rule.fields[k]);
    return out;
  }
  return structuredCloneJson(override);
}

function structuredCloneJson<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** The defaults, a profile and overrides (applied in order), merged and validated. */
export function resolveConfig(profile: ProfileName = 'quick', ...overrides: (ConfigOverride | Record<string, unknown>)[]): CaptionerConfig {
  if (!(PROFILE_NAMES as readonly string[]).includes(profile)) {
    throw new Error(`unknown profile ${JSON.stringify(profile)}; use one of ${PROFILE_NAMES.join(', ')}`);
  }
  let merged = merge(DEFAULT_CONFIG, PROFILES[profile], SCHEMA);
  for (const override of overrides) merged = merge(merged, override, SCHEMA);
  return validateConfig(merged);
}

/**
 * `key=value` settings (the command line's `--set`) as an override: values parse as JSON
 * where they can (`4e-4`, `true`, `null`, `[32,64]`), else as strings (`relu`).
 */
export function parseSettings(settings: readonly string[]): Record<string, unknown> {
  const override: Record<string, unknown> = {};
  for (const setting of settings) {
    const eq = setting.indexOf('=');
    if (eq <= 0) throw new Error(`setting ${JSON.stringify(setting)} must look like key=value, e.g. decoder.hidden=256`);
    const key = setting.slice(0, eq).trim();
    const raw = setting.slice(eq + 1).trim();
    const rule = ruleOf(key);
    let value: unknown = raw;
    if (rule.type !== 'string' && rule.type !== 'enum') {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
    } else if (raw === 'null') value = null;
    setDotted(override, key, value);
  }
  return override;
}

/** Dotted keys to values (a sweep file's `set`, `--set` once parsed) as an override: `{ 'decoder.hidden': 256 }` -> `{ decoder: { hidden: 256 } }`. */
export function dottedOverride(values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const override: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    ruleOf(key); // an unknown key is an error naming it
    setDotted(override, key, value);
  }
  return override;
}

function setDotted(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(target[part])) target[part] = {};
    target = target[part] as Record<string, unknown>;
  }
  target[parts[parts.length - 1]] = value;
}

/** What a run's identity hashes of its config: every key but those that say how the run is executed. */
export type IdentityConfig = Omit<CaptionerConfig, 'train'> & { train: Omit<CaptionerConfig['train'], 'workers'> };

/**
 * The config as a run's identity sees it: without `train.workers` (how many data-parallel
 * workers train it), which changes no result beyond float rounding. Everything that finds or
 * names a run (the run store's job, `trainRuns`, `captioning train`) hashes this.
 */
export function identityConfig(config: CaptionerConfig): IdentityConfig {
  const { workers: _workers, ...train } = config.train;
  return { ...config, train };
}

/** A run's stored (identity) config back as a full config, executed with `train.workers` 'auto'; checked. */
export function configFromIdentity(stored: unknown): CaptionerConfig {
  const record = isPlainObject(stored) ? stored : {};
  const train = isPlainObject(record.train) ? { workers: 'auto', ...record.train } : record.train;
  return validateConfig({ ...record, train });
}
