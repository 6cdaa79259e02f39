/**
 * The wasm backend's matrix products on native OpenBLAS, where its addon is built.
 *
 * tfjs's wasm backend runs its matMul in XNNPACK compiled to wasm: about 20-30 GFLOP/s on
 * one core of this machine, where native OpenBLAS reaches 60-100 (bench/README.md, issue
 * #16). native/openblas-matmul is a small Node addon that multiplies operands where they
 * lie, in the wasm heap, and writes into an output the backend allocated: no copies. It is
 * built by scripts/setup.sh (`npm run build:native`, needs Debian's libopenblas-dev); where
 * it is not built, or `CAPTIONING_NATIVE_MATMUL=0`, XNNPACK computes every product, as
 * before. Which one ran is part of the backend's details in every run's environment.json.
 *
 * wasm-kernel-patches.ts calls {@link nativeBatchMatMul} from the `BatchMatMul` kernel;
 * test/compute/native-matmul.test.ts checks it against the cpu backend.
 */
import * as path from 'path';

import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';

import type { TensorInfo } from './wasm-kernel-util';

/** The addon's functions (native/openblas-matmul/matmul.c). */
interface OpenBlasAddon {
  sgemmBatch(
    heap: Float32Array,
    batch: number,
    a: number,
    aStride: number,
    b: number,
    bStride: number,
    c: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
  ): void;
  setThreads(threads: number): void;
  config(): string;
}

/** Set to 0 to compute products with XNNPACK even where the addon is built. */
export const NATIVE_MATMUL_ENV = 'CAPTIONING_NATIVE_MATMUL';

/** Where `npm run build:native` puts the addon. */
export const NATIVE_MATMUL_ADDON = path.join(__dirname, '..', '..', 'native', 'openblas-matmul', 'build', 'Release', 'openblas_matmul.node');

interface Loaded {
  addon: OpenBlasAddon | undefined;
  /** Why the addon is not used, when it is not. */
  reason: string | undefined;
  threads: number;
}

let loaded: Loaded | undefined;

/** Loads the addon once per thread (each worker thread loads its own); one OpenBLAS thread until told otherwise. */
function load(env: NodeJS.ProcessEnv = process.env): Loaded {
  if (loaded) return loaded;
  if (env[NATIVE_MATMUL_ENV] === '0') {
    loaded = { addon: undefined, reason: `${NATIVE_MATMUL_ENV}=0`, threads: 0 };
    return loaded;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(NATIVE_MATMUL_ADDON) as OpenBlasAddon;
    addon.setThreads(1);
    loaded = { addon, reason: undefined, threads: 1 };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const reason = message.startsWith('Cannot find module')
      ? 'native/openblas-matmul is not built (bash scripts/setup.sh builds it where OpenBLAS is installed)'
      : `native/openblas-matmul failed to load: ${message}`;
    loaded = { addon: undefined, reason, threads: 0 };
  }
  return loaded;
}

let enabled = true;

/** Whether products run on OpenBLAS in this thread. */
export function nativeMatMulAvailable(): boolean {
  return enabled && load().addon !== undefined;
}

/**
 * Lets OpenBLAS compute products (default) or not (tests check the XNNPACK path with it
 * off); returns the previous setting. `CAPTIONING_NATIVE_MATMUL=0` switches it off for good.
 */
export function useNativeMatMul(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

/**
 * OpenBLAS's thread count for this process's products (it is process-wide). Data-parallel
 * workers run one each; a lone run may give OpenBLAS the cores it leaves idle.
 */
export function setNativeMatMulThreads(threads: number): void {
  const state = load();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`native matMul threads must be a whole number >= 1, got ${threads}`);
  if (!state.addon || state.threads === threads) return;
  state.addon.setThreads(threads);
  state.threads = threads;
}

/** What computes the products, for logs and run records: `OpenBLAS 0.3.21 ... (native, 1 thread)` or `XNNPACK (wasm); not OpenBLAS: ...`. */
export function describeMatMul(): string {
  const state = load();
  if (!state.addon) return `XNNPACK (wasm); not OpenBLAS: ${state.reason}`;
  if (!enabled) return 'XNNPACK (wasm); OpenBLAS switched off (useNativeMatMul)';
  const [name, version] = state.addon.config().split(' ');
  return `${name} ${version} (native, ${state.threads} thread${state.threads === 1 ? '' : 's'})`;
}

/** The whole wasm heap as floats: the memory under a tensor's view (taken after the last allocation). */
function heapOf(backend: BackendWasm, any: TensorInfo): Float32Array {
  return new Float32Array(backend.typedArrayFromHeap(any).buffer);
}

/** Float offset of a tensor's data in the wasm heap. */
function heapOffset(backend: BackendWasm, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset / Float32Array.BYTES_PER_ELEMENT;
}

/**
 * `BatchMatMul` on OpenBLAS: a [..., M, K] (or [..., K, M] transposed) times b [..., K, N]
 * (or [..., N, K]) -> [..., M, N], the leading axes broadcast as tfjs does where one side's
 * batch is 1. Returns undefined where the addon is missing or the case is not one it takes
 * (not float32, empty, batches that broadcast axis by axis): the caller runs XNNPACK then.
 */
export function nativeBatchMatMul(backend: BackendWasm, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo | undefined {
  const addon = load().addon;
  if (!enabled || !addon || a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  if (a.shape.length < 2 || b.shape.length < 2) return undefined;
  const [aRows, aCols] = a.shape.slice(-2);
  const [bRows, bCols] = b.shape.slice(-2);
  const m = transposeA ? aCols : aRows;
  const k = transposeA ? aRows : aCols;
  const n = transposeB ? bRows : bCols;
  const kB = transposeB ? bCols : bRows;
  if (k !== kB) throw new Error(`BatchMatMul: inner sizes differ, ${JSON.stringify(a.shape)} x ${JSON.stringify(b.shape)} (transposeA ${transposeA}, transposeB ${transposeB})`);
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((x, y) => x * y, 1);
  const batchB = outerB.reduce((x, y) => x * y, 1);
  if (m * n * k === 0 || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return undefined;
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batch = Math.max(batchA, batchB);
  const out = backend.makeOutput([...outer, m, n], 'float32'); // [..., M, N]
  // The heap view is taken after the output's allocation, which may have grown (and replaced) the memory.
  addon.sgemmBatch(
    heapOf(backend, out),
    batch,
    heapOffset(backend, a),
    batchA === 1 ? 0 : m * k,
    heapOffset(backend, b),
    batchB === 1 ? 0 : k * n,
    heapOffset(backend, out),
    m,
    n,
    k,
    transposeA,
    transposeB,
  );
  return out;
}
