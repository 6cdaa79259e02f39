/**
 * Stock wasm kernels wrapped for training speed, with unchanged results:
 *
 * - `BatchMatMul` on native OpenBLAS where its addon is built (native-kernels.ts, issue #16:
 *   two to three and a half times XNNPACK's speed here, bench/README.md; transposes are flags, not copies). Otherwise, with
 *   `transposeA`/`transposeB`: wasm's transposed product is ten times
 *   slower than the plain one (FACTS.md §4), so the operand is transposed explicitly, then
 *   the fast plain kernel runs. matMul's gradient uses transposed products, so this is what
 *   makes the backward pass of every dense layer fast. Transposed right operands are kept
 *   with their source (a speedup of issue #9, see wasm-speedups.ts).
 * - `Identity` sharing data instead of copying it (issue #9).
 * - `Slice` copying inside the wasm heap (issue #16): the stock kernel first copies its
 *   whole input out of the heap into a new JS array (`readSync`), so slicing the rows of a
 *   [1280, 2048] weight made a 10 MB array each time, the garbage that kept V8's collector
 *   threads busy during training (about 19 MB a step at the `small` shape).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { nativeBatchMatMul } from './native-kernels';
import { BACKEND, heapBuffer, heapByteOffset, isBoolean, readAttr, release, runWasmKernel, sizeOf, type KernelFunc, type TensorInfo } from './wasm-kernel-util';
import { wasmSpeedupsEnabled } from './wasm-speedups';

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
    if (!wasmSpeedupsEnabled() || x.dtype === 'string') return copying(args);
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
 * Wraps wasm's BatchMatMul: OpenBLAS computes the product where it can (any transposes);
 * otherwise transposed operands are transposed explicitly, then the fast plain kernel runs. A transposed left operand (`x^T dy`, the weight gradient: new each
 * step) is transposed and freed; a transposed right operand (`dy W^T`: the same weight at
 * every step) is transposed once and kept in the cache above.
 */
function fastMatMul(plain: KernelFunc, cache: TransposeCache): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const transposeA = readAttr('BatchMatMul', attrs, 'transposeA', 'a boolean', isBoolean);
    const transposeB = readAttr('BatchMatMul', attrs, 'transposeB', 'a boolean', isBoolean);
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    if (wasmSpeedupsEnabled()) {
      const product = nativeBatchMatMul(wasm, a, b, transposeA, transposeB); // [..., M, N]
      if (product) return product;
    }
    if (!transposeA && !transposeB) return plain({ inputs, backend, attrs });
    const swapLastTwo = (t: TensorInfo) => {
      const perm = t.shape.map((_, i) => i);
      const n = perm.length;
      [perm[n - 2], perm[n - 1]] = [perm[n - 1], perm[n - 2]];
      return runWasmKernel('Transpose', wasm, { x: t }, { perm });
    };
    const aPlain = transposeA ? swapLastTwo(a) : a; // [..., M, K]
    const keep = transposeB && wasmSpeedupsEnabled();
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

/**
 * `Slice` by copies inside the heap: one copy for a contiguous slice, else one per run of the
 * last axis (an odometer over the other axes). Strings go to the stock kernel.
 */
function inHeapSlice(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    if (!wasmSpeedupsEnabled() || x.dtype === 'string') return stock(args);
    const wasm = args.backend as BackendWasm;
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, args.attrs!.begin as number | number[], args.attrs!.size as number | number[]);
    const out = wasm.makeOutput(size, x.dtype); // before reading the heap: the allocation may grow (and replace) it
    const count = sizeOf(size);
    if (count === 0) return out;
    const bytes = tf.util.bytesPerElement(x.dtype);
    const from = heapByteOffset(wasm, x);
    const to = heapByteOffset(wasm, out);
    const heap = new Uint8Array(heapBuffer(wasm, out)); // the whole heap, as bytes
    const strides = tf.util.computeStrides(x.shape); // elements, for all axes but the last
    if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
      const start = from + tf.slice_util.computeFlatOffset(begin, strides) * bytes;
      heap.copyWithin(to, start, start + count * bytes);
      return out;
    }
    const rank = x.shape.length;
    const run = size[rank - 1] * bytes; // one row of the last axis
    const index = new Array<number>(rank - 1).fill(0); // position among the outer axes of the slice
    for (let written = 0; written < count * bytes; written += run) {
      let offset = begin[rank - 1];
      for (let axis = 0; axis < rank - 1; axis++) offset += (begin[axis] + index[axis]) * strides[axis];
      heap.copyWithin(to + written, from + offset * bytes, from + offset * bytes + run);
      for (let axis = rank - 2; axis >= 0 && ++index[axis] === size[axis]; axis--) index[axis] = 0;
    }
    return out;
  };
}

/**
 * Replaces wasm's `Identity`, `Slice` and `BatchMatMul` with the wrappers above (once: the caller,
 * installWasmTraining, is idempotent); returns the names it reports for them.
 */
export function patchStockKernels(): string[] {
  const matMul = tf.getKernel('BatchMatMul', BACKEND);
  if (!matMul) throw new Error("installWasmTraining: the wasm backend has no 'BatchMatMul' kernel");
  const identity = tf.getKernel('Identity', BACKEND);
  if (!identity) throw new Error("installWasmTraining: the wasm backend has no 'Identity' kernel");
  tf.unregisterKernel('Identity', BACKEND);
  tf.registerKernel({ ...identity, kernelFunc: sharedIdentity(identity.kernelFunc) });

  const slice = tf.getKernel('Slice', BACKEND);
  if (!slice) throw new Error("installWasmTraining: the wasm backend has no 'Slice' kernel");
  tf.unregisterKernel('Slice', BACKEND);
  tf.registerKernel({ ...slice, kernelFunc: inHeapSlice(slice.kernelFunc) });

  transposeCache = new TransposeCache(tf.findBackend(BACKEND) as BackendWasm);
  tf.unregisterKernel('BatchMatMul', BACKEND);
  tf.registerKernel({ ...matMul, kernelFunc: fastMatMul(matMul.kernelFunc, transposeCache) });
  return ['Identity(shared)', 'Slice(in-heap)', 'BatchMatMul(OpenBLAS or transposed)'];
}
