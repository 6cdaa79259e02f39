/**
 * The switch of the wasm speedups of issue #9: shared Identity and kept transposes
 * (wasm-kernel-patches.ts), the fused LSTM cell and attention context
 * (wasm-fused-kernels.ts, used by src/model/lstm-cell.ts and attention.ts).
 */

/**
 * Whether the speedups are on. They change no result beyond float rounding; `npm run bench`
 * turns them off for its "before" column, and test/train/optimised-equivalence.test.ts
 * compares both.
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
