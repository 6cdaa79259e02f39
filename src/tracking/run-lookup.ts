/**
 * Which run folder a job's content maps to: identity is the content (config, epochs, seed,
 * data fingerprints), not the name. A content hash is claimed once (`runs/.ids/<hash>`), the
 * folder is `<first name>-<hash>`, and the same content asked for under another name is the
 * same run, that name recorded as an alias in config.json.
 *
 *   jobRunId(job);            // 'baseline-s1-07efe0793bf3', or the folder another name already holds
 *   findFinishedRun(job);     // the finished Run, checked, or undefined (nothing trained, locked or logged)
 */
import * as fs from 'fs';
import * as path from 'path';

import { assertRunId, canonicalJson, identityHash, runIdentity, RUN_ID_PATTERN, slugify, type RunIdentity } from './canonical';
import { DamagedRunError } from './errors';
import { readJsonIfExists, writeJsonSync } from './files';
import type { TrainingJob } from './job';
import { runFolder, RUN_FILES, runsFolder } from './paths';
import { checkConfig, checkStatus } from './record-checks';
import type { ConfigRecord } from './records';
import { Run } from './run';

export type JobContent = Pick<TrainingJob<unknown>, 'name' | 'config' | 'epochs' | 'seed' | 'fingerprints'>;

/** Claim files `runs/.ids/<hash>` hold the folder id of each content hash. */
const CLAIMS_FOLDER = '.ids';

/**
 * The folder id the store already has for a content hash: its claim file, else a folder
 * `<any name>-<hash>` (runs made before claims); undefined when the content is new.
 */
export function existingRunId(hash: string, root?: string): string | undefined {
  const folder = runsFolder(root);
  const claim = path.join(folder, CLAIMS_FOLDER, hash);
  const held = readJsonIfExists<{ id?: unknown }>(claim);
  if (held !== undefined) {
    if (typeof held.id !== 'string' || !RUN_ID_PATTERN.test(held.id)) throw new DamagedRunError(claim, `field "id" should be a run id, got ${JSON.stringify(held.id)}`);
    return held.id;
  }
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return undefined;
  }
  return names.filter((n) => RUN_ID_PATTERN.test(n) && n.endsWith(`-${hash}`)).sort()[0];
}

/**
 * Claims a content hash for the folder id `id`, atomically (a hard link fails when the claim
 * exists): two processes asking for the same content under two names at once agree on one
 * folder. Returns the id that holds the claim, ours or the earlier one.
 */
export function claimRunId(hash: string, id: string, root?: string): string {
  assertRunId(id);
  const folder = path.join(runsFolder(root), CLAIMS_FOLDER);
  fs.mkdirSync(folder, { recursive: true });
  const claim = path.join(folder, hash);
  const temp = `${claim}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify({ id }) + '\n');
  try {
    fs.linkSync(temp, claim);
    return id;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return existingRunId(hash, root) ?? id;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/**
 * The run id a job maps to: the folder the store holds for its content (whatever name
 * trained it), else `<slug of name>-<hash of its identity>`.
 */
export function jobRunId(job: JobContent, options: { root?: string } = {}): string {
  const hash = identityHash(jobIdentity(job));
  return existingRunId(hash, options.root) ?? `${slugify(job.name)}-${hash}`;
}

export function jobIdentity(job: Pick<TrainingJob<unknown>, 'config' | 'epochs' | 'seed' | 'fingerprints'>): RunIdentity {
  return runIdentity({ config: job.config, epochs: job.epochs, seed: job.seed, fingerprints: job.fingerprints });
}

/**
 * The finished run `job` maps to, checked as `experiment` checks it before loading, without
 * training, locking or logging; undefined when there is none (missing or unfinished). A
 * folder holding another config throws DamagedRunError, as `experiment` would.
 */
export function findFinishedRun(job: JobContent, options: { root?: string } = {}): Run | undefined {
  const id = jobRunId(job, options);
  return loadFinished(id, runFolder(id, options.root), jobIdentity(job), job.name, () => {});
}

/** Checks that config.json of an existing folder holds the identity its name was hashed from. */
export function checkIdentity(dir: string, identity: RunIdentity): ConfigRecord | undefined {
  const file = path.join(dir, RUN_FILES.config);
  const raw = readJsonIfExists(file);
  if (raw === undefined) return undefined;
  const record = checkConfig(file, raw);
  const stored: RunIdentity = { schema: record.schema, config: record.config, epochs: record.epochs, seed: record.seed, fingerprints: record.fingerprints };
  if (canonicalJson(stored) !== canonicalJson(identity)) {
    throw new DamagedRunError(file, `holds another config than the one hashed into this run id (edited by hand, or a hash collision); move the folder away`);
  }
  return record;
}

/** The names a run folder answers to: its first name, then its aliases. */
export function namesOf(record: ConfigRecord): string[] {
  return [...new Set([record.name, ...(record.aliases ?? [])])];
}

/** Adds `name` to config.json's aliases when the run is asked for under a new name. */
export function recordAlias(dir: string, record: ConfigRecord, name: string): void {
  const names = namesOf(record);
  if (names.includes(name)) return;
  writeJsonSync(path.join(dir, RUN_FILES.config), { ...record, aliases: [...names, name] });
}

/** The finished run in `dir`, checked; undefined when there is none to load. `name`: the name it was asked for under. */
export function loadFinished(id: string, dir: string, identity: RunIdentity, name: string, log: (line: string) => void): Run | undefined {
  const statusFile = path.join(dir, RUN_FILES.status);
  const raw = readJsonIfExists(statusFile);
  if (raw === undefined) return undefined;
  const status = checkStatus(statusFile, raw);
  if (status.status !== 'finished') return undefined;
  const record = checkIdentity(dir, identity)!;
  const run = new Run(id, dir);
  run.validate();
  const summary = run.summary;
  const alias = namesOf(record).includes(name) ? '' : ` (asked for as ${JSON.stringify(name)}: the same content, recorded as an alias)`;
  recordAlias(dir, record, name);
  log(`[captioning-lab] run ${id}: finished ${summary.updatedAt}, loaded from ${dir} (no training)${alias}`);
  return run;
}
