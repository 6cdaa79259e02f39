/**
 * Compute backend selection: the fastest tfjs backend that loads on this machine.
 *
 * Order of preference: `node-gpu` (@tensorflow/tfjs-node-gpu, CUDA), `node`
 * (@tensorflow/tfjs-node, libtensorflow on the CPU), `wasm` (@tensorflow/tfjs-backend-wasm,
 * its .wasm binaries read from node_modules, never a CDN), `cpu` (plain JavaScript).
 * The two native packages are optional dependencies: where their install step could not
 * download libtensorflow they are simply absent, and this module says so.
 *
 * `CAPTIONING_BACKEND=node-gpu|node|wasm|cpu` forces one; a forced backend that fails to
 * load is an error, never a silent fallback. The choice and the reason each faster backend
 * was passed over are logged once per process and returned for run records.
 */
import * as tf from '@tensorflow/tfjs';
import * as path from 'path';

import { describeMatMul } from './native-kernels';
import { installWasmTraining } from './wasm-training';

/** The backends we know how to load, fastest first. */
export const BACKEND_KINDS = ['node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** The environment variable that forces a backend. */
export const BACKEND_ENV_VAR = 'CAPTIONING_BACKEND';

/** Why a backend was not taken. */
export interface BackendRejection {
  kind: BackendKind;
  reason: string;
}

/** What was chosen, and why; stored in every run record. */
export interface BackendChoice {
  /** Our name for the backend (`node-gpu`, `node`, `wasm`, `cpu`). */
  kind: BackendKind;
  /** The name tfjs knows it by (`tensorflow`, `wasm`, `cpu`). */
  tfjsBackend: string;
  /** Version of @tensorflow/tfjs-core in use. */
  tfjsVersion: string;
  /** Set when the choice was forced, e.g. `CAPTIONING_BACKEND=cpu`. */
  forcedBy?: string;
  /** The faster backends that were passed over, each with its reason. */
  rejected: BackendRejection[];
  /** Backend-specific facts (wasm SIMD and threads, patched kernels). */
  details: Record<string, string | number | boolean>;
}

/** Loads one backend and makes it the active one; throws with the reason on failure. */
export type BackendLoader = () => Promise<Record<string, string | number | boolean>>;

/** Options of {@link selectBackend}; every field has a production default. */
export interface SelectBackendOptions {
  /** Force one backend; defaults to the environment variable, else none. */
  force?: BackendKind;
  /** Replace the loaders, for tests of the fallback logic. */
  loaders?: Partial<Record<BackendKind, BackendLoader>>;
  /** Where to write the one-line decision; defaults to stderr. Pass `null` for silence. */
  log?: ((line: string) => void) | null;
}

/** Reads and validates the forcing variable. */
export function forcedBackendFromEnv(env: NodeJS.ProcessEnv = process.env): BackendKind | undefined {
  const raw = env[BACKEND_ENV_VAR];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = raw.trim();
  if (!(BACKEND_KINDS as readonly string[]).includes(value)) {
    throw new Error(
      `${BACKEND_ENV_VAR}=${JSON.stringify(raw)} is not a backend; use one of ${BACKEND_KINDS.join(', ')}`,
    );
  }
  return value as BackendKind;
}

/** Folder holding the wasm backend's .wasm files, with the trailing slash tfjs requires. */
export function wasmBinariesFolder(): string {
  const packageFolder = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  return path.join(packageFolder, 'dist') + path.sep;
}

/** Shortens a loader error to its first line, e.g. "Cannot find module '@tensorflow/tfjs-node'". */
function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].trim();
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

/** Loads a native tfjs-node package; it registers the `tensorflow` backend. */
function nativeLoader(packageName: string): BackendLoader {
  return async () => {
    let version: string;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(packageName);
      version = require(`${packageName}/package.json`).version;
    } catch (error) {
      const message = firstLine(error);
      throw new Error(
        message.startsWith(`Cannot find module '${packageName}'`)
          ? `${packageName} is not installed (an optional dependency, absent where its install step could not download libtensorflow)`
          : `${packageName} failed to load: ${message}`,
      );
    }
    await activate('tensorflow');
    return { package: packageName, packageVersion: version };
  };
}

const defaultLoaders: Record<BackendKind, BackendLoader> = {
  'node-gpu': nativeLoader('@tensorflow/tfjs-node-gpu'),
  node: nativeLoader('@tensorflow/tfjs-node'),
  wasm: async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const wasm: typeof import('@tensorflow/tfjs-backend-wasm') = require('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(wasmBinariesFolder());
    await activate('wasm');
    const patched = installWasmTraining();
    return {
      simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
      threads: wasm.getThreadsCount(),
      matMul: describeMatMul(),
      binaries: wasmBinariesFolder(),
      patchedKernels: patched.join(' '),
    };
  },
  cpu: async () => {
    await activate('cpu');
    return {};
  },
};

/**
 * Tries the backends fastest first (or only the forced one), activates the first that loads
 * and returns what was chosen and why the faster ones were not.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendChoice> {
  const force = options.force ?? forcedBackendFromEnv();
  const loaders = { ...defaultLoaders, ...options.loaders };
  const log = options.log === undefined ? (line: string) => process.stderr.write(line + '\n') : options.log;
  const rejected: BackendRejection[] = [];
  const candidates = force ? [force] : BACKEND_KINDS;
  for (const kind of candidates) {
    try {
      const details = await loaders[kind]();
      const choice: BackendChoice = {
        kind,
        tfjsBackend: tf.getBackend(),
        tfjsVersion: tf.version_core,
        rejected,
        details,
        ...(force ? { forcedBy: `${BACKEND_ENV_VAR}=${force}` } : {}),
      };
      if (log) log(describeBackendChoice(choice));
      return choice;
    } catch (error) {
      if (force) {
        throw new Error(`${BACKEND_ENV_VAR}=${force} was asked for, but it failed to load: ${firstLine(error)}`);
      }
      rejected.push({ kind, reason: firstLine(error) });
    }
  }
  throw new Error(
    'no tfjs backend could be loaded: ' + rejected.map((r) => `${r.kind}: ${r.reason}`).join('; '),
  );
}

/** One line for logs: `backend wasm (tfjs 4.22.0, tf name 'wasm', matMul OpenBLAS …); not node-gpu: …; not node: …`. */
export function describeBackendChoice(choice: BackendChoice): string {
  const matMul = choice.details.matMul ? `, matMul ${choice.details.matMul}` : '';
  const head = `[captioning-lab] backend ${choice.kind} (tfjs ${choice.tfjsVersion}, tf name '${choice.tfjsBackend}'${matMul})`;
  const forced = choice.forcedBy ? `, forced by ${choice.forcedBy}` : '';
  const passed = choice.rejected.map((r) => `; not ${r.kind}: ${r.reason}`).join('');
  return head + forced + passed;
}

let current: Promise<BackendChoice> | undefined;

/**
 * The process-wide backend: selected (and logged) on the first call, the same answer after.
 * Call it before creating any tensor. `force` (a notebook's `device` parameter) picks the
 * backend on the first call, as CAPTIONING_BACKEND does; null or absent: the usual choice.
 */
export function initBackend(force?: BackendKind | null): Promise<BackendChoice> {
  if (!current) {
    current = selectBackend(force ? { force } : {});
    // A failed selection may be retried after the user fixes the environment.
    current.catch(() => {
      current = undefined;
    });
  }
  return current;
}
