/**
 * Run identity: canonical JSON of a config (keys sorted at every depth), short sha256
 * hashes, and the run id `<name>-<12 hex>` built from them (DESIGN.md, "Runs and caching").
 *
 *   runId({ name: 'baseline', config: { lr: 4e-4, hidden: 512 }, epochs: 5, seed: 1,
 *           fingerprints: { dataset: '3f2a9c1b7d0e' } })
 *   // 'baseline-9c0d4e1f2a3b': the same for { hidden: 512, lr: 4e-4 } (key order is irrelevant)
 *
 * Canonical form: objects with their keys sorted (code-unit order), keys whose value is
 * `undefined` left out (as JSON.stringify does), arrays in their order, numbers as
 * JSON.stringify writes them (so 1 and 1.0 are the same). NaN, Infinity, functions,
 * symbols, bigints, class instances (Date, Map, typed arrays) are errors naming the key path:
 * a config must be plain JSON to be hashed and stored.
 */
import { createHash } from 'crypto';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Length of the hex hash in run ids (48 bits: collisions need ~16 million runs). */
export const RUN_HASH_LENGTH = 12;

/** Versions the identity: a change of canonical form gives new ids, never silent reuse. */
export const IDENTITY_SCHEMA = 'captioning-lab/run-identity@1';

function describePath(path: string): string {
  return path === '' ? 'the config' : `config key ${JSON.stringify(path)}`;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Checks `value` is plain JSON and returns it with sorted keys and no undefined members. */
export function canonicalize(value: unknown, path = ''): JsonValue {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new Error(`${describePath(path)} is ${value}: only finite numbers can be stored as JSON`);
      }
      return Object.is(value, -0) ? 0 : value;
    case 'object': {
      if (Array.isArray(value)) return value.map((item, i) => canonicalize(item === undefined ? null : item, `${path}[${i}]`));
      if (!isPlainObject(value)) {
        const kind = (value as object).constructor?.name ?? 'object';
        throw new Error(`${describePath(path)} is a ${kind}: a config must be plain JSON (objects, arrays, strings, numbers, booleans, null)`);
      }
      const out: JsonObject = {};
      for (const key of Object.keys(value as object).sort()) {
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined) continue;
        out[key] = canonicalize(member, path === '' ? key : `${path}.${key}`);
      }
      return out;
    }
    default:
      throw new Error(`${describePath(path)} is a ${typeof value}: a config must be plain JSON`);
  }
}

/** The canonical JSON text of a value: sorted keys, no whitespace. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value));
}

/** The first `length` hex digits of the sha256 of `text`. */
export function shortHash(text: string | Uint8Array, length = RUN_HASH_LENGTH): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** What makes two runs the same run. */
export interface RunIdentityInput {
  /** A readable prefix of the id, e.g. 'baseline' (not hashed: the hash alone names the experiment). */
  name?: string;
  /** The resolved config (plain JSON). */
  config: unknown;
  /** Number of epochs to train. */
  epochs: number;
  /** The seed of every random choice of the run. */
  seed: number;
  /** Fingerprints of the data the run reads, e.g. { dataset: '3f2a9c1b7d0e', vocabulary: '…' }. */
  fingerprints?: Record<string, string>;
}

/** The hashed part of a run's identity, as stored in config.json. */
export interface RunIdentity {
  schema: typeof IDENTITY_SCHEMA;
  config: JsonValue;
  epochs: number;
  seed: number;
  fingerprints: Record<string, string>;
}

/** Validates and canonicalizes the identity of a run. */
export function runIdentity(input: RunIdentityInput): RunIdentity {
  if (!Number.isInteger(input.epochs) || input.epochs < 1) {
    throw new Error(`epochs must be a positive integer, got ${JSON.stringify(input.epochs)}`);
  }
  if (!Number.isInteger(input.seed)) throw new Error(`seed must be an integer, got ${JSON.stringify(input.seed)}`);
  const fingerprints: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.fingerprints ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (typeof value !== 'string' || value.length === 0) {
      throw new Error(`fingerprint ${JSON.stringify(key)} must be a non-empty string, got ${JSON.stringify(value)}`);
    }
    fingerprints[key] = value;
  }
  return { schema: IDENTITY_SCHEMA, config: canonicalize(input.config), epochs: input.epochs, seed: input.seed, fingerprints };
}

/** Lower-case letters, digits and single dashes; at most 40 characters; 'run' when empty. */
export function slugify(name: string | undefined): string {
  const slug = (name ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug || 'run';
}

/** The hash of an identity: 12 hex digits of the sha256 of its canonical JSON. */
export function identityHash(identity: RunIdentity): string {
  return shortHash(canonicalJson(identity));
}

/** `<slug of name>-<identity hash>`, e.g. `baseline-3f2a9c1b7d0e`. */
export function runId(input: RunIdentityInput): string {
  return `${slugify(input.name)}-${identityHash(runIdentity(input))}`;
}

/** Run ids are folder names: letters, digits, '-', '_' and '.', not starting with '.'. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function assertRunId(id: string): void {
  if (typeof id !== 'string' || !RUN_ID_PATTERN.test(id)) {
    throw new Error(`${JSON.stringify(id)} is not a run id (letters, digits, '.', '_' and '-', e.g. baseline-3f2a9c1b7d0e)`);
  }
}

/**
 * Flattens a config into dotted keys: { model: { hidden: 512 }, lr: 1e-3 } ->
 * { 'model.hidden': 512, lr: 0.001 }. Arrays and empty objects become their JSON text.
 */
export function flattenConfig(value: unknown, prefix = ''): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  const visit = (v: unknown, key: string) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
      for (const k of Object.keys(v).sort()) visit((v as Record<string, unknown>)[k], key === '' ? k : `${key}.${k}`);
      return;
    }
    if (v === undefined) return;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key || 'value'] = v as string | number | boolean | null;
    else out[key || 'value'] = JSON.stringify(v);
  };
  visit(value, prefix);
  return out;
}
