/**
 * What the wasm training kernels share (wasm-missing-kernels.ts, wasm-kernel-patches.ts,
 * wasm-fused-kernels.ts): running another wasm kernel from inside one, freeing its
 * intermediate results, and reading kernel attributes with a runtime check of their type
 * (tfjs types them only as a NamedAttrMap).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type TensorInfo = tf.TensorInfo;
export type KernelFunc = tf.KernelConfig['kernelFunc'];

export const BACKEND = 'wasm';

/** Runs another wasm kernel from inside ours (no engine bookkeeping, no tape). */
export function runWasmKernel(
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
export function release(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Where a tensor's data starts in the wasm heap, in bytes. */
export function heapByteOffset(backend: BackendWasm, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}

/**
 * The whole wasm heap (the memory under any tensor's view). Take it after the last
 * allocation: an allocation may grow the heap and replace its buffer.
 */
export function heapBuffer(backend: BackendWasm, any: TensorInfo): ArrayBufferLike {
  return backend.typedArrayFromHeap(any).buffer;
}

/** Number of elements of a shape. */
export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A runtime check that narrows an attribute to T. */
export type AttrGuard<T> = (value: unknown) => value is T;

export const isNumber: AttrGuard<number> = (value): value is number => typeof value === 'number';
export const isBoolean: AttrGuard<boolean> = (value): value is boolean => typeof value === 'boolean';
export const isString: AttrGuard<string> = (value): value is string => typeof value === 'string';

/**
 * Attribute `name` of a kernel call, checked by `guard`; an error names the kernel, the
 * attribute, what it should be and what it was.
 */
export function readAttr<T>(kernel: string, attrs: tf.NamedAttrMap | undefined, name: string, expected: string, guard: AttrGuard<T>): T {
  const value = attrs?.[name];
  if (guard(value)) return value;
  const shown = value === undefined ? 'missing' : JSON.stringify(value);
  throw new Error(`${kernel}: attribute '${name}' should be ${expected}, got ${shown}`);
}

/** Like {@link readAttr}, for an attribute that may be absent (undefined or null). */
export function readOptionalAttr<T>(kernel: string, attrs: tf.NamedAttrMap | undefined, name: string, expected: string, guard: AttrGuard<T>): T | undefined {
  const value = attrs?.[name];
  return value === undefined || value === null ? undefined : readAttr(kernel, attrs, name, expected, guard);
}
