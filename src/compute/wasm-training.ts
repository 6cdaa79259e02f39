/**
 * Kernels that let tfjs's wasm backend train our models, registered once at start-up.
 *
 * Out of the box (tfjs 4.22) the wasm backend cannot run backpropagation through an
 * embedding or a convolution, and its matMul with a transposed operand is ten times slower
 * than the plain one (FACTS.md §4). Three kernels fix that, each composed from the wasm
 * backend's own kernels or written as a plain loop over the wasm heap:
 *
 * - `UnsortedSegmentSum`, the gradient of `gather` (an embedding lookup): a scatter-add.
 * - `Conv2DBackpropFilter`, the filter gradient of `conv2d`: computed as a forward
 *   convolution of the input with the output gradient (stride and dilation swap roles).
 * - `BatchMatMul` with `transposeA`/`transposeB`: the operand is transposed explicitly, then
 *   the fast plain kernel runs. matMul's gradient uses transposed products, so this is what
 *   makes the backward pass of every dense layer fast.
 *
 * Issue #9 added speedups that change no result (switchable with `setWasmSpeedups`, which
 * the bench's "before" column turns off): `Identity` sharing data instead of copying it,
 * transposed right operands kept with their source, and fused kernels for the LSTM cell
 * and the attention context (used by src/model/lstm-cell.ts and attention.ts).
 *
 * Each kernel is checked against the cpu backend in test/compute/wasm-training.test.ts and
 * test/compute/fused-kernels.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type TensorInfo = tf.TensorInfo;
type KernelFunc = tf.KernelConfig['kernelFunc'];

const BACKEND = 'wasm';

/** Runs another wasm kernel from inside ours (no engine bookkeeping, no tape). */
function runWasmKernel(
  name: string,
  backend: BackendWasm,
  inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown>,
): TensorInfo {
  const kernel = tf.getKernel(name, BACKEND);
  if (!kernel) throw new Error(`the wasm backend has no '${name}' kernel`);
  return kernel.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
}

/** Frees intermediate results of {@link runWasmKernel}. */
function release(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Number of elements of a shape. */
function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * out[s, ...] = sum of x[r, ...] over rows r with segmentIds[r] = s; ids outside
 * [0, numSegments) are dropped, as TensorFlow does.
 */
const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const x = inputs.x as TensorInfo; // [rows..., inner...]
  const segmentIds = inputs.segmentIds as TensorInfo; // [rows...]
  const numSegments = (attrs as unknown as tf.UnsortedSegmentSumAttrs).numSegments;
  const idShape = segmentIds.shape;
  if (idShape.some((d, i) => x.shape[i] !== d)) {
    throw new Error(
      `UnsortedSegmentSum: segmentIds shape [${idShape}] must be a prefix of x shape [${x.shape}]`,
    );
  }
  const innerShape = x.shape.slice(idShape.length);
  const inner = sizeOf(innerShape);
  const rows = sizeOf(idShape);
  // Allocate first: growing the heap detaches typed-array views taken before.
  const out = wasm.makeOutput([numSegments, ...innerShape], x.dtype); // [numSegments, inner...]
  const outValues = wasm.typedArrayFromHeap(out);
  const xValues = wasm.typedArrayFromHeap(x);
  const ids = wasm.typedArrayFromHeap(segmentIds);
  outValues.fill(0);
  for (let r = 0; r < rows; r++) {
    const s = ids[r];
    if (s < 0 || s >= numSegments) continue;
    const src = r * inner;
    const dst = s * inner;
    for (let k = 0; k < inner; k++) outValues[dst + k] += xValues[src + k];
  }
  return out;
};

/**
 * dW[kh, kw, ci, co] = sum over b, oh, ow of x[b, oh*s + kh - pad, ow*s + kw - pad, ci] * dy[b, oh, ow, co].
 * Read as a convolution: input x^T [ci, H, W, B] ("batch" = input channel, "channels" =
 * batch), filter dy^T [OH, OW, B, co] dilated by the forward stride, output [ci, kh', kw', co].
 */
const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const x = inputs.x as TensorInfo; // [B, H, W, Ci]
  const dy = inputs.dy as TensorInfo; // [B, OH, OW, Co]
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter on wasm supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const { top, bottom, left, right } = info.padInfo;

  const xT = runWasmKernel('Transpose', wasm, { x }, { perm: [3, 1, 2, 0] }); // [Ci, H, W, B]
  const dyT = runWasmKernel('Transpose', wasm, { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, B, Co]
  const full = runWasmKernel(
    'Conv2D',
    wasm,
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      dilations: [info.strideHeight, info.strideWidth],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: 'NHWC',
    },
  ); // [Ci, >= kh, >= kw, Co]: padding that the forward pass never reached gives extra rows
  const exact =
    full.shape[1] === kh && full.shape[2] === kw
      ? full
      : runWasmKernel('Slice', wasm, { x: full }, { begin: [0, 0, 0, 0], size: [-1, kh, kw, -1] }); // [Ci, kh, kw, Co]
  const dW = runWasmKernel('Transpose', wasm, { x: exact }, { perm: [1, 2, 0, 3] }); // [kh, kw, Ci, Co]
  release(wasm, xT, dyT, full);
  if (exact !== full) release(wasm, exact);
  return dW;
};

/**
 * Whether the speedups of issue #9 (shared Identity, kept transposes, the fused LSTM cell
 * and attention context) are on. They change no result beyond float rounding; `npm run bench` turns them off for
 * its "before" column, and test/train/optimised-equivalence.test.ts compares both.
 */
let speedups = true;

/** Turns the speedups on (default) or off; returns the previous setting. */
export function setWasmSpeedups(enabled: boolean): boolean {
  const previous = speedups;
  speedups = enabled;
  return previous;
}

/** Whether the speedups are on (src/model/lstm-cell.ts asks before using the fused cell). */
export function wasmSpeedupsEnabled(): boolean {
  return speedups;
}

/**
 * `Identity` (what `tf.clone` and the tape's saved tensors run): the new tensor shares the
 * input's data, as the cpu backend does, instead of copying it. wasm tensors are never
 * written after they are made, so sharing is safe; it spares a copy of every tensor the
 * gradient keeps, and it keeps a weight's data id the same in the forward and the backward
 * pass (which the transpose cache below and XNNPACK's packed-operand cache key on).
 */
function sharedIdentity(copying: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    if (!speedups || x.dtype === 'string') return copying(args);
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}


/**
 * Transposed copies of right-hand matMul operands, kept while their source lives.
 *
 * The gradient of `x W` with respect to x is `dy W^T`: every time step of a recurrence asks
 * for the transpose of the same weight. Transposing it each time costs more than the
 * product (a [1024, 2048] weight: about 15 ms to transpose, 5 ms to multiply by 32 rows),
 * and a new operand also makes XNNPACK repack it (about 8 ms), because wasm's matMul
 * caches its packed operator by the operand's data id. So the first transpose of an operand
 * is kept, under its data id and shape, and freed when the operand's data is freed (wasm
 * tensors are immutable: a variable's update gets new data). Later products reuse it and
 * hit XNNPACK's cache too.
 */
class TransposeCache {
  private readonly copies = new Map<object, Map<string, TensorInfo>>();

  constructor(private readonly wasm: BackendWasm) {
    // Free a source's copies with the source: wrap the backend's disposeData once.
    const disposeData = wasm.disposeData.bind(wasm);
    wasm.disposeData = (dataId: object, force?: boolean): boolean => {
      const freed = disposeData(dataId, force);
      const copies = freed ? this.copies.get(dataId) : undefined;
      if (copies) {
        this.copies.delete(dataId);
        for (const copy of copies.values()) disposeData(copy.dataId, true);
      }
      return freed;
    };
  }

  /** The operand with its last two axes swapped: [..., K, N] -> [..., N, K], made once per operand. */
  swapLastTwo(t: TensorInfo): TensorInfo {
    const key = t.shape.join(',');
    let copies = this.copies.get(t.dataId);
    const known = copies?.get(key);
    if (known) return known;
    const perm = t.shape.map((_, i) => i);
    const n = perm.length;
    [perm[n - 2], perm[n - 1]] = [perm[n - 1], perm[n - 2]];
    const copy = runWasmKernel('Transpose', this.wasm, { x: t }, { perm });
    if (!copies) this.copies.set(t.dataId, (copies = new Map()));
    copies.set(key, copy);
    return copy;
  }

  /** Transposed copies held now (tests). */
  get size(): number {
    let n = 0;
    for (const copies of this.copies.values()) n += copies.size;
    return n;
  }
}

let transposeCache: TransposeCache | undefined;

/** Transposed operands held by the matMul kernel now (tests check that they are freed). */
export function cachedTransposes(): number {
  return transposeCache?.size ?? 0;
}

/**
 * Wraps wasm's BatchMatMul so that transposed operands are transposed explicitly, then the
 * fast plain kernel runs. A transposed left operand (`x^T dy`, the weight gradient: new each
 * step) is transposed and freed; a transposed right operand (`dy W^T`: the same weight at
 * every step) is transposed once and kept in the cache above.
 */
function explicitTransposeMatMul(plain: KernelFunc, cache: TransposeCache): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    if (!transposeA && !transposeB) return plain({ inputs, backend, attrs });
    const swapLastTwo = (t: TensorInfo) => {
      const perm = t.shape.map((_, i) => i);
      const n = perm.length;
      [perm[n - 2], perm[n - 1]] = [perm[n - 1], perm[n - 2]];
      return runWasmKernel('Transpose', wasm, { x: t }, { perm });
    };
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    const aPlain = transposeA ? swapLastTwo(a) : a; // [..., M, K]
    const keep = transposeB && speedups;
    const bPlain = transposeB ? (keep ? cache.swapLastTwo(b) : swapLastTwo(b)) : b; // [..., K, N]
    const out = plain({
      inputs: { a: aPlain, b: bPlain },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    }); // [..., M, N]
    if (transposeA) release(wasm, aPlain);
    if (transposeB && !keep) release(wasm, bPlain);
    return out;
  };
}

/** Names of the fused LSTM cell kernels (src/model/lstm-cell.ts defines the op and its gradient). */
export const LSTM_CELL = 'CaptioningLstmCell';
export const LSTM_CELL_GRAD = 'CaptioningLstmCellGrad';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * The LSTM cell's element-wise part in one pass: gates [B, 4H] (i f g o) and c [B, H] ->
 * h [B, H] and the new c [B, H]; see src/model/lstm-cell.ts.
 */
const lstmCellKernel: KernelFunc = ({ inputs, backend }) => {
  const wasm = backend as BackendWasm;
  const gates = inputs.gates as TensorInfo; // [B, 4H]
  const cPrev = inputs.c as TensorInfo; // [B, H]
  const [B, G4] = gates.shape;
  const H = G4 / 4;
  // Allocate first: growing the heap detaches typed-array views taken before.
  const hOut = wasm.makeOutput([B, H], 'float32'); // [B, H]
  const cOut = wasm.makeOutput([B, H], 'float32'); // [B, H]
  const g = wasm.typedArrayFromHeap(gates);
  const cp = wasm.typedArrayFromHeap(cPrev);
  const h = wasm.typedArrayFromHeap(hOut);
  const c = wasm.typedArrayFromHeap(cOut);
  for (let b = 0; b < B; b++) {
    const row = b * G4;
    for (let j = 0; j < H; j++) {
      const k = b * H + j;
      const cNext = sigmoid(g[row + H + j]) * cp[k] + sigmoid(g[row + j]) * Math.tanh(g[row + 2 * H + j]);
      c[k] = cNext;
      h[k] = sigmoid(g[row + 3 * H + j]) * Math.tanh(cNext);
    }
  }
  return [hOut, cOut];
};

/**
 * Its gradient in one pass: gates [B, 4H], c_{t-1} and c_t [B, H], dh and dc [B, H] ->
 * d gates [B, 4H] and d c_{t-1} [B, H].
 *
 *   dc  = dc_in + dh s(o) (1 - tanh(c_t)^2)
 *   d i = dc tanh(g) s(i)(1 - s(i));   d f = dc c_{t-1} s(f)(1 - s(f))
 *   d g = dc s(i) (1 - tanh(g)^2);     d o = dh tanh(c_t) s(o)(1 - s(o));   d c_{t-1} = dc s(f)
 */
const lstmCellGradKernel: KernelFunc = ({ inputs, backend }) => {
  const wasm = backend as BackendWasm;
  const gates = inputs.gates as TensorInfo; // [B, 4H]
  const [B, G4] = gates.shape;
  const H = G4 / 4;
  const dGatesOut = wasm.makeOutput([B, G4], 'float32'); // [B, 4H]
  const dcPrevOut = wasm.makeOutput([B, H], 'float32'); // [B, H]
  const g = wasm.typedArrayFromHeap(gates);
  const cp = wasm.typedArrayFromHeap(inputs.c as TensorInfo);
  const cn = wasm.typedArrayFromHeap(inputs.cNext as TensorInfo);
  const dh = wasm.typedArrayFromHeap(inputs.dh as TensorInfo);
  const dcIn = wasm.typedArrayFromHeap(inputs.dc as TensorInfo);
  const dGates = wasm.typedArrayFromHeap(dGatesOut);
  const dcPrev = wasm.typedArrayFromHeap(dcPrevOut);
  for (let b = 0; b < B; b++) {
    const row = b * G4;
    for (let j = 0; j < H; j++) {
      const k = b * H + j;
      const i = sigmoid(g[row + j]);
      const f = sigmoid(g[row + H + j]);
      const gg = Math.tanh(g[row + 2 * H + j]);
      const o = sigmoid(g[row + 3 * H + j]);
      const tc = Math.tanh(cn[k]);
      const dc = dcIn[k] + dh[k] * o * (1 - tc * tc);
      dGates[row + j] = dc * gg * i * (1 - i);
      dGates[row + H + j] = dc * cp[k] * f * (1 - f);
      dGates[row + 2 * H + j] = dc * i * (1 - gg * gg);
      dGates[row + 3 * H + j] = dh[k] * tc * o * (1 - o);
      dcPrev[k] = dc * f;
    }
  }
  return [dGatesOut, dcPrevOut];
};

/** Names of the fused weighted-sum kernels (src/model/attention.ts defines the op and its gradient). */
export const WEIGHTED_SUM = 'CaptioningWeightedSum';
export const WEIGHTED_SUM_GRAD_ALPHA = 'CaptioningWeightedSumGradAlpha';

/**
 * The attention's context in one pass: alpha [B, P], features [B, P, D] ->
 * z[b, d] = sum_p alpha[b, p] features[b, p, d], [B, D]. Composed of tfjs ops this is a
 * product [B, P, D], a transpose and a sum, and the sum's gradient keeps the product alive
 * until the backward pass: at the paper's shape 51 MB per step, which is what overflowed
 * the 4 GiB wasm heap.
 */
const weightedSumKernel: KernelFunc = ({ inputs, backend }) => {
  const wasm = backend as BackendWasm;
  const alphaInfo = inputs.alpha as TensorInfo; // [B, P]
  const featuresInfo = inputs.features as TensorInfo; // [B, P, D]
  const [B, P, D] = featuresInfo.shape;
  const out = wasm.makeOutput([B, D], 'float32'); // [B, D]
  const alpha = wasm.typedArrayFromHeap(alphaInfo);
  const features = wasm.typedArrayFromHeap(featuresInfo);
  const z = wasm.typedArrayFromHeap(out);
  z.fill(0);
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < P; p++) {
      const a = alpha[b * P + p];
      const row = (b * P + p) * D;
      for (let d = 0; d < D; d++) z[b * D + d] += a * features[row + d];
    }
  }
  return out;
};

/** The weighted sum's gradient for alpha: dz [B, D], features [B, P, D] -> d alpha[b, p] = sum_d dz[b, d] features[b, p, d]. */
const weightedSumGradAlphaKernel: KernelFunc = ({ inputs, backend }) => {
  const wasm = backend as BackendWasm;
  const dzInfo = inputs.dz as TensorInfo; // [B, D]
  const featuresInfo = inputs.features as TensorInfo; // [B, P, D]
  const [B, P, D] = featuresInfo.shape;
  const out = wasm.makeOutput([B, P], 'float32'); // [B, P]
  const dz = wasm.typedArrayFromHeap(dzInfo);
  const features = wasm.typedArrayFromHeap(featuresInfo);
  const dAlpha = wasm.typedArrayFromHeap(out);
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < P; p++) {
      const row = (b * P + p) * D;
      let sum = 0;
      for (let d = 0; d < D; d++) sum += dz[b * D + d] * features[row + d];
      dAlpha[b * P + p] = sum;
    }
  }
  return out;
};

let installed: string[] | undefined;

/**
 * Registers the kernels above for the wasm backend (idempotent) and returns their names.
 * Call after the wasm backend is registered (importing @tensorflow/tfjs-backend-wasm).
 */
export function installWasmTraining(): string[] {
  if (installed) return installed;
  const registered = new Set(tf.getKernelsForBackend(BACKEND).map((k) => k.kernelName));
  if (registered.size === 0) throw new Error('installWasmTraining: the wasm backend is not registered');
  const names: string[] = [];

  for (const [kernelName, kernelFunc] of [
    ['UnsortedSegmentSum', unsortedSegmentSum],
    ['Conv2DBackpropFilter', conv2DBackpropFilter],
  ] as const) {
    // A later tfjs that brings its own kernel keeps it.
    if (registered.has(kernelName)) continue;
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
    names.push(kernelName);
  }

  const matMul = tf.getKernel('BatchMatMul', BACKEND);
  if (!matMul) throw new Error("installWasmTraining: the wasm backend has no 'BatchMatMul' kernel");
  const identity = tf.getKernel('Identity', BACKEND);
  if (!identity) throw new Error("installWasmTraining: the wasm backend has no 'Identity' kernel");
  tf.unregisterKernel('Identity', BACKEND);
  tf.registerKernel({ ...identity, kernelFunc: sharedIdentity(identity.kernelFunc) });
  names.push('Identity(shared)');

  transposeCache = new TransposeCache(tf.findBackend(BACKEND) as BackendWasm);
  tf.unregisterKernel('BatchMatMul', BACKEND);
  tf.registerKernel({ ...matMul, kernelFunc: explicitTransposeMatMul(matMul.kernelFunc, transposeCache) });
  names.push('BatchMatMul(transposed)');

  for (const [kernelName, kernelFunc] of [
    [LSTM_CELL, lstmCellKernel],
    [LSTM_CELL_GRAD, lstmCellGradKernel],
    [WEIGHTED_SUM, weightedSumKernel],
    [WEIGHTED_SUM_GRAD_ALPHA, weightedSumGradAlphaKernel],
  ] as const) {
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
    names.push(kernelName);
  }

  installed = names;
  return names;
}
