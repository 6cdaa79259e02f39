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
 * Each kernel is checked against the cpu backend in test/compute/wasm-training.test.ts.
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

/** Wraps wasm's BatchMatMul so that transposed operands are transposed once, explicitly. */
function explicitTransposeMatMul(plain: KernelFunc): KernelFunc {
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
    const bPlain = transposeB ? swapLastTwo(b) : b; // [..., K, N]
    const out = plain({
      inputs: { a: aPlain, b: bPlain },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    }); // [..., M, N]
    if (transposeA) release(wasm, aPlain);
    if (transposeB) release(wasm, bPlain);
    return out;
  };
}

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
  tf.unregisterKernel('BatchMatMul', BACKEND);
  tf.registerKernel({ ...matMul, kernelFunc: explicitTransposeMatMul(matMul.kernelFunc) });
  names.push('BatchMatMul(transposed)');

  installed = names;
  return names;
}
