/**
 * How the report groups runs into models and arms: the seeds of one config are one group,
 * named by the run name without its seed (`baseline-s1`, `baseline-s2` -> `baseline`). Runs
 * that share a name but not a config (a rerun after a profile change, say) are never pooled:
 * each config is its own group, `baseline (config 1)`, `baseline (config 2)`.
 */
import { canonicalJson } from '../tracking/canonical';
import { seedStem } from '../tracking/run-groups';
import type { RunEntry } from '../tracking/store';

/** A run as the report groups it: its name and its config (the seed, where the config holds one, is ignored). */
export interface Groupable {
  name: string;
  config: unknown;
}

/** Items grouped by name without seed and config without seed, in first-seen order, under their labels. */
export function groupBySeedStem<T>(items: readonly T[], of: (item: T) => Groupable): Map<string, T[]> {
  const byStem = new Map<string, Map<string, T[]>>();
  for (const item of items) {
    const { name, config } = of(item);
    const withoutSeed = config && typeof config === 'object' && !Array.isArray(config) ? Object.fromEntries(Object.entries(config).filter(([k]) => k !== 'seed')) : config;
    const configs = byStem.get(seedStem(name)) ?? new Map<string, T[]>();
    const key = canonicalJson(withoutSeed);
    configs.set(key, [...(configs.get(key) ?? []), item]);
    byStem.set(seedStem(name), configs);
  }
  const out = new Map<string, T[]>();
  for (const [stem, configs] of byStem) {
    [...configs.values()].forEach((group, k) => out.set(configs.size === 1 ? stem : `${stem} (config ${k + 1})`, group));
  }
  return out;
}

/** The finished runs (entries with a summary) by model or arm: what the report's body and appendix share. */
export type RunGroups = Map<string, RunEntry[]>;

/** The finished runs' groups, by their summaries' names and configs. */
export function runGroups(finished: readonly RunEntry[]): RunGroups {
  return groupBySeedStem(finished, (e) => ({ name: e.summary!.name, config: e.summary!.config }));
}
