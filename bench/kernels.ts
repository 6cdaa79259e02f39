/**
 * The native heap kernels against the wasm backend's own (issue #16, src/compute/native-kernels.ts):
 * matrix products of the training shapes on XNNPACK (column "before") and OpenBLAS ("after"),
 * and Adam over the `small` shape's largest weights through `Adam.apply` (tfjs ops, then the
 * native pass); and the recurrent products of a time step (a few rows times a weight),
 * OpenBLAS on the heap ("before") against the packed-panel kernel on host rows ("after"), the
 * weight packed once outside the timing as training packs it once per batch. Run by `npm run
 * bench` (group `kernels`); the native columns are left out, with a note, where the addon is
 * not built.
 */
import * as tf from '@tensorflow/tfjs';

import { Adam } from '../src/compute/adam';
import { describeMatMul, nativeKernelsAvailable, useNativeKernels } from '../src/compute/native-kernels';
import { nativePackPanels, nativePanelMatMul, packedLength } from '../src/compute/native-panels';
import { sizeOf } from '../src/compute/wasm-kernel-util';
import { type BenchResult, median, seededValues, since } from './timing';

/** [M, K, N]: a step's rows times a gate matrix, its rows times W_rec, the output layer over a batch's rows, a batch's stacked rows times W_rec. */
const PRODUCTS: readonly [number, number, number][] = [
  [16, 512, 2816],
  [32, 768, 2048],
  [512, 512, 2000],
  [512, 1280, 2048],
];

/** [rows, K, N]: a `small` step's rows (2 workers: 16, 1 worker: 32) times [W_h | W_hp] forward, and d gates times W_rec^T backward. */
const STEP_PRODUCTS: readonly [number, number, number][] = [
  [16, 512, 2816],
  [32, 512, 2816],
  [16, 2048, 1024],
  [32, 2048, 1024],
];

/** Weights of the `small` shape's decoder: W_rec [D + H, 4H], embedding, output layer and its bias, an attention projection. */
const ADAM_WEIGHTS: readonly number[][] = [[1280, 2048], [2000, 256], [512, 2000], [2000], [512, 768], [768]];

/** Median milliseconds of `run` over `reps` calls after two warm-up calls. */
function time(run: () => void, reps: number): number {
  run();
  run();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const start = process.hrtime.bigint();
    run();
    times.push(since(start));
  }
  return median(times);
}

/** Runs `fn` with the native kernels on or off, then restores the setting. */
function withNative<T>(on: boolean, fn: () => T): T {
  const previous = useNativeKernels(on);
  try {
    return fn();
  } finally {
    useNativeKernels(previous);
  }
}

export function benchKernels(): BenchResult[] {
  const results: BenchResult[] = [];
  const native = nativeKernelsAvailable();
  const columns = native ? ([['before', false], ['after', true]] as const) : ([['before', false]] as const);
  for (const [m, k, n] of PRODUCTS) {
    const a = tf.tensor2d(seededValues(m * k, 1), [m, k]);
    const b = tf.tensor2d(seededValues(k * n, 2), [k, n]);
    const reps = Math.max(5, Math.round(2e9 / (2 * m * k * n)));
    for (const [column, on] of columns) {
      const ms = withNative(on, () => time(() => tf.matMul(a, b).dispose(), reps));
      const gflops = (2 * m * k * n) / ms / 1e6;
      results.push({ name: `matMul [${m}, ${k}] x [${k}, ${n}], ${on ? 'OpenBLAS' : 'XNNPACK'}: ${gflops.toFixed(1)} GFLOP/s`, medianMs: ms, runs: reps, column, gflops: Number(gflops.toFixed(1)) });
    }
    tf.dispose([a, b]);
  }
  if (native) {
    for (const [m, k, n] of STEP_PRODUCTS) {
      const x = seededValues(m * k, 4);
      const a = tf.tensor2d(x, [m, k]);
      const b = tf.tensor2d(seededValues(k * n, 5), [k, n]);
      const packed = nativePackPanels(b, false, new Float32Array(packedLength(k, n)))!;
      const out = new Float32Array(m * n);
      const reps = Math.max(20, Math.round(1e9 / (2 * m * k * n)));
      const gflops = (ms: number) => ((2 * m * k * n) / ms / 1e6).toFixed(1);
      const blas = time(() => tf.matMul(a, b).dispose(), reps);
      const panels = time(() => nativePanelMatMul(x, m, packed, out), reps);
      results.push({ name: `step product [${m}, ${k}] x [${k}, ${n}], OpenBLAS: ${gflops(blas)} GFLOP/s`, medianMs: blas, runs: reps, column: 'before' });
      results.push({ name: `step product [${m}, ${k}] x [${k}, ${n}], packed panels: ${gflops(panels)} GFLOP/s`, medianMs: panels, runs: reps, column: 'after' });
      tf.dispose([a, b]);
    }
  }
  const weights = new Map(ADAM_WEIGHTS.map((shape, i) => [`w${i}`, tf.variable(tf.tensor(seededValues(sizeOf(shape), 3 + i), shape), true, `bench-adam-w${i}`)]));
  const grads = new Map(ADAM_WEIGHTS.map((shape, i) => [`w${i}`, tf.tensor(seededValues(sizeOf(shape), 20 + i), shape)]));
  const count = ADAM_WEIGHTS.reduce((total, shape) => total + sizeOf(shape), 0);
  const adam = new Adam(weights);
  for (const [column, on] of columns) {
    const ms = withNative(on, () => time(() => adam.apply(grads, () => 1e-4), 10));
    results.push({ name: `Adam update, ${(count / 1e6).toFixed(1)}M weights in ${ADAM_WEIGHTS.length} tensors, ${on ? 'native pass' : 'tfjs ops'}`, medianMs: ms, runs: 10, column });
  }
  adam.dispose();
  tf.dispose([...weights.values(), ...grads.values()]);
  if (!native) results.push({ name: `native kernels not run: ${describeMatMul()}`, medianMs: NaN, runs: 0, column: 'after' });
  return results;
}
