/**
 * Kernels that tfjs 4.22's wasm backend lacks for backpropagation (FACTS.md §4), each
 * composed from the wasm backend's own kernels or written as a plain loop over the wasm heap:
 *
 * - `UnsortedSegmentSum`, the gradient of `gather` (an embedding lookup): a scatter-add.
 * - `Conv2DBackpropFilter`, the filter gradient of `conv2d`: computed as a forward
 *   convolution of the input with the output gradient (stride and dilation swap roles).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import {
  BACKEND,
  isNumber,
  isString,
  readAttr,
  readOptionalAttr,
  release,
  runWasmKernel,
  sizeOf,
  type AttrGuard,
  type KernelFunc,
  type TensorInfo,
} from './wasm-kernel-util';

type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

const isNumberList = (value: unknown, length: number): boolean =>
  Array.isArray(value) && value.length === length && value.every((v: unknown) => typeof v === 'number');
const isPair = (value: unknown): value is [number, number] => isNumberList(value, 2);
const isStrides: AttrGuard<number | [number, number]> = (value): value is number | [number, number] => isNumber(value) || isPair(value);
const isPad: AttrGuard<'valid' | 'same' | number | ExplicitPadding> = (value): value is 'valid' | 'same' | number | ExplicitPadding =>
  value === 'valid' || value === 'same' || isNumber(value) || (Array.isArray(value) && value.length === 4 && value.every((v: unknown) => isPair(v)));
const isRoundingMode: AttrGuard<'floor' | 'round' | 'ceil'> = (value): value is 'floor' | 'round' | 'ceil' =>
  value === 'floor' || value === 'round' || value === 'ceil';
const isFilterShape: AttrGuard<[number, number, number, number]> = (value): value is [number, number, number, number] =>
  isNumberList(value, 4);

/**
 * out[s, ...] = sum of x[r, ...] over rows r with segmentIds[r] = s; ids outside
 * [0, numSegments) are dropped, as TensorFlow does.
 */
const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const x = inputs.x as TensorInfo; // [rows..., inner...]
  const segmentIds = inputs.segmentIds as TensorInfo; // [rows...]
  const numSegments = readAttr('UnsortedSegmentSum', attrs, 'numSegments', 'a number', isNumber);
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
  const kernel = 'Conv2DBackpropFilter';
  const strides = readAttr(kernel, attrs, 'strides', 'a number or [number, number]', isStrides);
  const pad = readAttr(kernel, attrs, 'pad', "'valid', 'same', a number or explicit padding", isPad);
  const dataFormat = readAttr(kernel, attrs, 'dataFormat', 'a string', isString);
  const dimRoundingMode = readOptionalAttr(kernel, attrs, 'dimRoundingMode', "'floor', 'round' or 'ceil'", isRoundingMode);
  const filterShape = readAttr(kernel, attrs, 'filterShape', '[number, number, number, number]', isFilterShape);
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
 * Registers the kernels above that the wasm backend does not have (`registered`: the names
 * it has); returns the names registered. A later tfjs that brings its own kernel keeps it.
 */
export function registerMissingKernels(registered: ReadonlySet<string>): string[] {
  const names: string[] = [];
  for (const [kernelName, kernelFunc] of [
    ['UnsortedSegmentSum', unsortedSegmentSum],
    ['Conv2DBackpropFilter', conv2DBackpropFilter],
  ] as const) {
    if (registered.has(kernelName)) continue;
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
    names.push(kernelName);
  }
  return names;
}
