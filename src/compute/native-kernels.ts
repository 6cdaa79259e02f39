/**
 * Native kernels on the wasm backend's heap, where their addon is built: matrix products on
 * OpenBLAS, the Adam update (of a weight, or of a data-parallel thread's share summed from the
 * workers' gradient slots) and a time step's soft attention after its scores; products of a
 * few host rows with a weight packed once are in native-panels.ts.
 *
 * tfjs's wasm backend runs its matMul in XNNPACK compiled to wasm: about 27-30 GFLOP/s on
 * one core of this machine, where native OpenBLAS reaches about 58-97 (bench/README.md, issue
 * #16); its Adam is ten kernels per weight. native/heap-kernels is a small Node addon whose
 * kernels work on the operands where they lie, in the wasm heap, and write into outputs the
 * backend allocated: no copies. It is built by scripts/setup.sh (`npm run build:native`,
 * needs Debian's libopenblas-dev); where it is not built, or with `CAPTIONING_NATIVE_KERNELS=0`,
 * the wasm backend's own kernels run, as before. Which products ran is part of the
 * backend's details in every run's environment.json.
 *
 * wasm-kernel-patches.ts calls {@link nativeBatchMatMul} from the `BatchMatMul` kernel,
 * adam.ts {@link nativeAdamUpdate}, src/model/recurrence-kernels.ts and attention-scores.ts
 * the attention kernels; test/compute/wasm-training.test.ts, recurrence-kernels.test.ts and
 * adam.test.ts check them against the cpu backend and scalar maths.
 */
import * as path from 'path';

import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';

import { heapBuffer, heapByteOffset, sizeOf, type TensorInfo } from './wasm-kernel-util';

/** The addon's functions (native/heap-kernels: matmul.c, adam.c, panels.c, attention.c). */
export interface HeapKernelsAddon {
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
  adamUpdate(
    w: Float32Array,
    m: Float32Array,
    v: Float32Array,
    out: Float32Array,
    gradients: Float32Array,
    slots: number,
    stride: number,
    scale: number,
    limit: number,
    beta1: number,
    beta2: number,
    step: number,
    root2: number,
    epsilon: number,
    writeWeight: boolean,
  ): void;
  packPanels(source: Float32Array, rows: number, cols: number, transposed: boolean, panels: Float32Array): void;
  panelMatMul(x: Float32Array, m: number, k: number, panels: Float32Array, n: number, out: Float32Array): void;
  attentionContext(dims: Int32Array, scores: Float32Array, features: Float32Array, hp: Float32Array, alpha: Float32Array, z: Float32Array, zg: Float32Array): void;
  attentionContextBackward(
    dims: Int32Array,
    features: Float32Array,
    hp: Float32Array,
    alpha: Float32Array,
    z: Float32Array,
    dzg: Float32Array,
    dAlphaSum: Float32Array,
    dHp: Float32Array,
    dFeatures: Float32Array,
    dScores: Float32Array,
  ): void;
  attentionScores(dims: Int32Array, projected: Float32Array, hp: Float32Array, v: Float32Array, scores: Float32Array): void;
  attentionScoresBackward(dims: Int32Array, projected: Float32Array, hp: Float32Array, dScores: Float32Array, preSum: Float32Array, uSum: Float32Array, dv: Float32Array): void;
}

/** Set to 0 to run the wasm backend's own kernels even where the addon is built. */
export const NATIVE_KERNELS_ENV = 'CAPTIONING_NATIVE_KERNELS';

/** Where `npm run build:native` puts the addon. */
export const NATIVE_KERNELS_ADDON = path.join(__dirname, '..', '..', 'native', 'heap-kernels', 'build', 'Release', 'heap_kernels.node');

interface Loaded {
  addon: HeapKernelsAddon | undefined;
  /** Why the addon is not used, when it is not. */
  reason: string | undefined;
}

let loaded: Loaded | undefined;

/** Loads the addon once per thread (each worker thread loads its own) and gives OpenBLAS one thread. */
function load(env: NodeJS.ProcessEnv = process.env): Loaded {
  if (loaded) return loaded;
  if (env[NATIVE_KERNELS_ENV] === '0') {
    loaded = { addon: undefined, reason: `${NATIVE_KERNELS_ENV}=0` };
    return loaded;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(NATIVE_KERNELS_ADDON) as HeapKernelsAddon;
    addon.setThreads(1); // process-wide: every training thread runs its products on its own core
    loaded = { addon, reason: undefined };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const reason = message.startsWith('Cannot find module')
      ? 'native/heap-kernels is not built (bash scripts/setup.sh builds it where OpenBLAS is installed)'
      : `native/heap-kernels failed to load: ${message}`;
    loaded = { addon: undefined, reason };
  }
  return loaded;
}

let enabled = true;

/** The addon, where the native kernels run in this thread (native-panels.ts's kernels call it). */
export function enabledAddon(): HeapKernelsAddon | undefined {
  return enabled ? load().addon : undefined;
}

/** Whether the native kernels run in this thread. */
export function nativeKernelsAvailable(): boolean {
  return enabled && load().addon !== undefined;
}

/**
 * Lets the native kernels run (default) or not (tests check the wasm backend's own kernels
 * with them off); returns the previous setting. `CAPTIONING_NATIVE_KERNELS=0` switches
 * them off for good. OpenBLAS runs one thread: the cores go to data-parallel workers and
 * parallel runs.
 */
export function useNativeKernels(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

/** What computes the products, for logs and run records: `OpenBLAS 0.3.21 (native, 1 thread); recurrent steps on packed panels (native)` or `XNNPACK (wasm); not OpenBLAS: ...`. */
export function describeMatMul(): string {
  const state = load();
  if (!state.addon) return `XNNPACK (wasm); not OpenBLAS: ${state.reason}`;
  if (!enabled) return 'XNNPACK (wasm); OpenBLAS switched off (useNativeKernels)';
  const [name, version] = state.addon.config().split(' ');
  return `${name} ${version} (native, 1 thread); recurrent steps on packed panels (native)`;
}

/** The whole wasm heap as floats (taken after the last allocation). */
function heapOf(backend: BackendWasm, any: TensorInfo): Float32Array {
  return new Float32Array(heapBuffer(backend, any));
}

/** Adam's settings for one update (adam.ts): step = lr / (1 - b1^t), root2 = sqrt(1 - b2^t). */
export interface AdamHyper {
  beta1: number;
  beta2: number;
  step: number;
  root2: number;
  epsilon: number;
}

/**
 * The operands of one Adam update (native/heap-kernels/adam.c), float32 views wherever they
 * lie: the weight's values `w` (n = w.length), its moments (updated in place), where the new
 * values go (`out`; undefined: nowhere, a learning rate of 0), and the gradient, the sum of
 * `slots` arrays `stride` floats apart from the start of `gradients`, added in slot order.
 */
export interface AdamOperands {
  w: Float32Array;
  m: Float32Array;
  v: Float32Array;
  out: Float32Array | undefined;
  gradients: { values: Float32Array; slots: number; stride: number };
}

/**
 * One Adam update, clipped on the way (clamp(scale g, -limit, limit)), in one native pass
 * (native/heap-kernels/adam.c). False when the addon is missing: the caller runs tfjs ops then.
 */
export function nativeAdamUpdate(operands: AdamOperands, clip: { scale: number; limit: number }, hyper: AdamHyper): boolean {
  const addon = load().addon;
  if (!enabled || !addon) return false;
  const { w, m, v, out, gradients } = operands;
  const { beta1, beta2, step, root2, epsilon } = hyper;
  addon.adamUpdate(w, m, v, out ?? w, gradients.values, gradients.slots, gradients.stride, clip.scale, clip.limit, beta1, beta2, step, root2, epsilon, out !== undefined);
  return true;
}

/**
 * One weight's Adam update on the wasm heap from its gradient, a tensor or host values: the
 * moments (tensors) in place, the new weight into a new tensor, returned (undefined when
 * `writeWeight` is false, a learning rate of 0). `{ done: false }` when the addon is missing.
 */
export function nativeAdamUpdateInHeap(
  backend: BackendWasm,
  tensors: { w: TensorInfo; m: TensorInfo; v: TensorInfo },
  gradient: TensorInfo | Float32Array,
  clip: { scale: number; limit: number },
  hyper: AdamHyper,
  writeWeight: boolean,
): { done: false } | { done: true; weight: TensorInfo | undefined } {
  if (!nativeKernelsAvailable()) return { done: false };
  const { w, m, v } = tensors;
  const n = sizeOf(w.shape);
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32' || sizeOf(t.shape) !== n) throw new Error(`adamUpdate: ${name} should be float32 with ${n} values like the weight, got ${t.dtype} ${JSON.stringify(t.shape)}`);
  }
  const onHost = gradient instanceof Float32Array;
  if (onHost ? gradient.length !== n : gradient.dtype !== 'float32' || sizeOf(gradient.shape) !== n) {
    throw new Error(`adamUpdate: the gradient should be float32 with ${n} values like the weight, got ${onHost ? `${gradient.length} values` : `${gradient.dtype} ${JSON.stringify(gradient.shape)}`}`);
  }
  const out = writeWeight ? backend.makeOutput(w.shape, 'float32') : undefined; // before the heap views: an allocation may grow (and replace) the heap
  const heap = heapOf(backend, w);
  const view = (t: TensorInfo) => heap.subarray(heapOffset(backend, t), heapOffset(backend, t) + n);
  const values = onHost ? gradient : view(gradient);
  nativeAdamUpdate({ w: view(w), m: view(m), v: view(v), out: out && view(out), gradients: { values, slots: 1, stride: 0 } }, clip, hyper);
  return { done: true, weight: out };
}

/** Float offset of a tensor's data in the wasm heap. */
function heapOffset(backend: BackendWasm, info: TensorInfo): number {
  return heapByteOffset(backend, info) / Float32Array.BYTES_PER_ELEMENT;
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
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  if (m * n * k === 0 || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return undefined;
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batch = Math.max(batchA, batchB);
  if (sizeOf(outer) !== batch) return undefined; // batch axes that broadcast axis by axis ([2, 1] with [1, 2])
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

/** The attention kernels' sizes: [P, A, D, G, B, row] (src/model/recurrence-kernels.ts names them). */
const attentionDims = (spec: { P: number; A: number; D: number; G: number }, B: number, row: number) => Int32Array.of(spec.P, spec.A, spec.D, spec.G, B, row);

/**
 * `attentionContext` of src/model/recurrence-kernels.ts in native code (native/heap-kernels/
 * attention.c); false where the native kernels do not run (the caller's loops run then).
 */
export function nativeAttentionContext(
  spec: { P: number; A: number; D: number; G: number },
  B: number,
  inputs: { scores: Float32Array; features: Float32Array; hp: Float32Array },
  out: { alpha: Float32Array; z: Float32Array; zg: Float32Array; row: number },
): boolean {
  const addon = load().addon;
  if (!enabled || !addon) return false;
  addon.attentionContext(attentionDims(spec, B, out.row), inputs.scores, inputs.features, inputs.hp, out.alpha, out.z, out.zg);
  return true;
}

/** `attentionContextBackward` of src/model/recurrence-kernels.ts in native code, d scores into `dScores`; false where the native kernels do not run. */
export function nativeAttentionContextBackward(
  spec: { P: number; A: number; D: number; G: number },
  B: number,
  saved: { features: Float32Array; hp: Float32Array; alpha: Float32Array; z: Float32Array; row: number },
  given: { dzg: Float32Array; dAlphaSum: Float32Array },
  grads: { hp: Float32Array; features: Float32Array | null; scores: Float32Array },
): boolean {
  const addon = load().addon;
  if (!enabled || !addon) return false;
  const { features, hp, alpha, z, row } = saved;
  addon.attentionContextBackward(attentionDims(spec, B, row), features, hp, alpha, z, given.dzg, given.dAlphaSum, grads.hp, grads.features ?? new Float32Array(0), grads.scores);
  return true;
}

/** The score kernels' sizes: [P, A, G, B, relu]. */
const scoreDims = (spec: { P: number; A: number; G: number; activation: string }, B: number) => Int32Array.of(spec.P, spec.A, spec.G, B, spec.activation === 'relu' ? 1 : 0);

/** scores [B, P] = act(projected [B, P, A] + hp[:, :A]) v in native code (see src/model/attention-scores.ts); false where the native kernels do not run. */
export function nativeAttentionScores(
  spec: { P: number; A: number; G: number; activation: string },
  B: number,
  inputs: { projected: Float32Array; hp: Float32Array; v: Float32Array },
  scores: Float32Array,
): boolean {
  const addon = load().addon;
  if (!enabled || !addon) return false;
  addon.attentionScores(scoreDims(spec, B), inputs.projected, inputs.hp, inputs.v, scores);
  return true;
}

/** The scores' backward pass in native code (see src/model/attention-scores.ts): u into preSum, uSum [B, A], dv [A] (tanh); false where the native kernels do not run. */
export function nativeAttentionScoresBackward(
  spec: { P: number; A: number; G: number; activation: string },
  B: number,
  inputs: { projected: Float32Array; hp: Float32Array; dScores: Float32Array },
  out: { preSum: Float32Array; uSum: Float32Array; dv: Float32Array },
): boolean {
  const addon = load().addon;
  if (!enabled || !addon) return false;
  addon.attentionScoresBackward(scoreDims(spec, B), inputs.projected, inputs.hp, inputs.dScores, out.preSum, out.uSum, out.dv);
  return true;
}
