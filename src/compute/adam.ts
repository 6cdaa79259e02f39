/**
 * Adam as PyTorch's `torch.optim.Adam` computes it (the reference code's optimiser; no
 * weight decay, no amsgrad), with its state exposed for checkpoints: the step count and the
 * two moment estimates of every weight. At step t (counting from 1), for gradient g:
 *
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *
 * which is w -= lr m_hat / (sqrt(v_hat) + eps) with m_hat = m / (1 - b1^t) and v_hat =
 * v / (1 - b2^t). Epsilon goes where PyTorch puts it: added to sqrt(v_hat), the
 * bias-corrected root, outside the square root. (TensorFlow's Adam adds it to the
 * uncorrected sqrt(v) instead, an epsilon larger by 1 / sqrt(1 - b2^t) in effect; the two
 * differ when gradients are as small as eps. test/compute/adam.test.ts checks this placement
 * against scalar maths.)
 *
 * Each weight may have its own learning rate (an encoder trained with the decoder at
 * another rate, as the reference code's encoder_lr). A learning rate of 0 leaves the weight
 * unchanged but still advances its moments, as PyTorch does (the step count is shared), so
 * a later step with lr > 0 sees the same moments as PyTorch's. Gradients reach the moments
 * clipped as the caller says (trainer.ts: by value, or scaled by the global norm), and may be
 * tensors or host values (data-parallel workers' sum in shared memory).
 *
 * On the wasm backend, with its speedups on and native/heap-kernels built, each weight's
 * update, clip included, is one native pass over its values in the wasm heap (native-kernels.ts,
 * `nativeAdamUpdate`; issue #16), reading a host gradient where it lies: the moments in
 * place, the new weight into a fresh tensor (weights stay immutable: cached transposes key on
 * their data). With tfjs ops it is a clip and ten kernels and nine intermediate tensors per
 * weight. test/compute/adam.test.ts checks both against the scalar maths.
 *
 * Data-parallel workers (src/train/data-parallel.ts) share one optimiser state instead of
 * each keeping and updating all of it: `shareMoments` moves the moments into shared memory,
 * `applyShare` updates a share of all the weights' values (a range of the weights laid end
 * to end) from the workers' gradient slots, summed in slot order on the way, and writes the
 * new values into a shared row, from which every thread then takes all the updated weights
 * (`takeUpdatedWeights`). Each value is updated once, by one thread, with the same formula.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { type AdamOperands, nativeAdamUpdate, nativeAdamUpdateInHeap } from './native-kernels';
import { wasmSpeedupsEnabled } from './wasm-speedups';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** How gradients are clipped on their way to the moments: g -> clamp(scale g, -limit, limit). */
export interface GradientClip {
  /** Clip by global norm: min(1, max norm / norm). */
  scale: number;
  /** Clip by value (Infinity: none). */
  limit: number;
}

/** Gradients as they are. */
export const NO_CLIP: GradientClip = { scale: 1, limit: Infinity };

/** A weight's gradient: a tensor, or host values in the weight's order. */
export type Gradient = tf.Tensor | Float32Array;

/** The weights laid end to end, in this order (the trainer's weightLayout). */
export type WeightLayout = readonly { name: string; size: number }[];

/** Gradients of all weights in shared memory: `slots` rows of `total` values (laid out as the weights), summed in row order. */
export interface GradientSlots {
  values: Float32Array;
  slots: number;
  total: number;
}

/** Host copy of an optimiser state (see checkpoint.ts). */
export interface AdamState {
  step: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** First and second moments by weight name. */
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Updates applied so far (t). */
  step = 0;
  private readonly weights: ReadonlyMap<string, tf.Variable>;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  /** The moments in shared memory (shareMoments), views by weight name; null: the tensors m and v. */
  private shared: { layout: WeightLayout; m: Map<string, Float32Array>; v: Map<string, Float32Array> } | null = null;

  constructor(weights: ReadonlyMap<string, tf.Variable>, options: AdamOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weights = weights;
    for (const [name, w] of weights) {
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
    }
  }

  /** One update from gradients by weight name, clipped by `clip`; `learningRate(name)` gives each weight's rate. */
  apply(gradients: ReadonlyMap<string, Gradient>, learningRate: (name: string) => number, clip: GradientClip = NO_CLIP): void {
    if (this.shared) throw new Error('Adam.apply: the moments are shared (shareMoments); data-parallel updates go through applyShare');
    this.step += 1;
    const t = this.step;
    const biasCorrection1 = 1 - Math.pow(this.beta1, t);
    const root2 = Math.sqrt(1 - Math.pow(this.beta2, t));
    tf.tidy(() => {
      for (const [name, gradient] of gradients) {
        const w = this.weights.get(name);
        const m = this.m.get(name);
        const v = this.v.get(name);
        if (!w || !m || !v) throw new Error(`Adam: a gradient for ${JSON.stringify(name)}, which is not one of its weights`);
        const lr = learningRate(name);
        if (this.updatedInHeap(w, gradient, clip, m, v, lr / biasCorrection1, root2)) continue;
        const raw = gradient instanceof Float32Array ? tf.tensor(gradient, w.shape, 'float32') : gradient;
        const next = this.updateOps(w, m, v, raw, clip, lr / biasCorrection1, root2);
        m.assign(next.m);
        v.assign(next.v);
        if (next.w) w.assign(next.w); // lr 0: the weight stays as it is, bit for bit
      }
    });
  }

  /** The update in tfjs ops (inside the caller's tidy): the new moments, and the new weight unless `step` is 0. */
  private updateOps(w: tf.Tensor, m: tf.Tensor, v: tf.Tensor, raw: tf.Tensor, clip: GradientClip, step: number, root2: number): { m: tf.Tensor; v: tf.Tensor; w: tf.Tensor | undefined } {
    const scaled = clip.scale === 1 ? raw : raw.mul(clip.scale);
    const g = clip.limit === Infinity ? scaled : tf.where(tf.isNaN(scaled), scaled, tf.clipByValue(scaled, -clip.limit, clip.limit)); // a NaN stays NaN, as in PyTorch's clamp (wasm's clipByValue turns it into a number)
    // The moments advance whatever the learning rate (as in PyTorch, lr only scales the update).
    const m1 = m.mul(this.beta1).add(g.mul(1 - this.beta1)); // same shape as w
    const v1 = v.mul(this.beta2).add(g.square().mul(1 - this.beta2));
    if (step === 0) return { m: m1, v: v1, w: undefined };
    const denom = v1.sqrt().div(root2).add(this.epsilon); // sqrt(v_hat) + eps
    return { m: m1, v: v1, w: w.sub(m1.div(denom).mul(step)) };
  }

  /**
   * Moves the moments into `moments` (shared memory, [2, total]: m then v, each laid out as
   * `layout`), this optimiser's current values copied there when `copy` (the thread whose
   * state the others receive). Every thread of a data-parallel group shares the same memory.
   */
  shareMoments(moments: Float32Array, layout: WeightLayout, copy: boolean): void {
    const total = layout.reduce((a, w) => a + w.size, 0);
    if (moments.length < 2 * total) throw new RangeError(`Adam.shareMoments: ${moments.length} floats for the moments of ${total} values (${2 * total} needed)`);
    if (layout.length !== this.weights.size || layout.some(({ name, size }) => this.weights.get(name)?.size !== size)) {
      throw new Error(`Adam.shareMoments: the layout ${JSON.stringify(layout.map((w) => w.name))} is not this optimiser's weights ${JSON.stringify([...this.weights.keys()])}`);
    }
    const state = copy ? this.getState() : null;
    const views = (row: number) => {
      let offset = row * total;
      return new Map(layout.map(({ name, size }) => [name, moments.subarray(offset, (offset += size))]));
    };
    this.shared = { layout, m: views(0), v: views(1) };
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
    if (state) this.setState(state);
  }

  /** Moves shared moments back into this optimiser's own tensors (the group is gone); nothing if they are not shared. */
  unshareMoments(): void {
    if (!this.shared) return;
    const state = this.getState();
    this.shared = null;
    for (const [name, w] of this.weights) {
      this.m.set(name, tf.tidy(() => tf.variable(tf.tensor(state.m.get(name)!, w.shape, 'float32'), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.tensor(state.v.get(name)!, w.shape, 'float32'), false)));
    }
  }

  /**
   * One update of the values [from, to) of all the weights laid end to end (a data-parallel
   * thread's share; see the header): the gradient summed from `gradients`' slots, the moments
   * in shared memory, the new values into `updated` ([total], laid out likewise). Only weights
   * with `present` gradients are updated, as `apply` updates only the weights it is given.
   */
  applyShare(gradients: GradientSlots, range: { from: number; to: number }, present: readonly boolean[], updated: Float32Array, learningRate: (name: string) => number, clip: GradientClip = NO_CLIP): void {
    const shared = this.sharedMoments('applyShare');
    this.step += 1;
    const biasCorrection1 = 1 - Math.pow(this.beta1, this.step);
    const root2 = Math.sqrt(1 - Math.pow(this.beta2, this.step));
    let offset = 0;
    shared.layout.forEach(({ name, size }, k) => {
      const start = offset;
      offset += size;
      const [a, b] = [Math.max(range.from, start), Math.min(range.to, start + size)]; // this share of the weight, in the layout
      if (!present[k] || a >= b) return;
      const step = learningRate(name) / biasCorrection1;
      const part = (values: Float32Array) => values.subarray(a - start, b - start);
      const operands: AdamOperands = {
        w: part(this.valuesOf(this.weights.get(name)!)),
        m: part(shared.m.get(name)!),
        v: part(shared.v.get(name)!),
        out: step === 0 ? undefined : updated.subarray(a, b), // lr 0: the weight stays as it is
        gradients: { values: gradients.values.subarray(a), slots: gradients.slots, stride: gradients.total },
      };
      const hyper = { beta1: this.beta1, beta2: this.beta2, step, root2, epsilon: this.epsilon };
      if (onWasmWithSpeedups() && nativeAdamUpdate(operands, clip, hyper)) return;
      this.applyShareOps(operands, clip, step, root2);
    });
  }

  /** applyShare's update of one weight's part in tfjs ops (where the native kernels do not run), host values in and out. */
  private applyShareOps(operands: AdamOperands, clip: GradientClip, step: number, root2: number): void {
    const { w, m, v, out, gradients } = operands;
    const g = summedSlots(gradients.values, gradients.slots, gradients.stride, w.length);
    tf.tidy(() => {
      const next = this.updateOps(tf.tensor1d(w), tf.tensor1d(m), tf.tensor1d(v), tf.tensor1d(g), clip, step, root2);
      m.set(next.m.dataSync());
      v.set(next.v.dataSync());
      if (next.w && out) out.set(next.w.dataSync());
    });
  }

  /**
   * Replaces the weights that `applyShare` updated, in every thread's share, with their new
   * values in `updated`: those with `present` gradients and a learning rate above 0.
   */
  takeUpdatedWeights(updated: Float32Array, present: readonly boolean[], learningRate: (name: string) => number): void {
    let offset = 0;
    this.sharedMoments('takeUpdatedWeights').layout.forEach(({ name, size }, k) => {
      const start = offset;
      offset += size;
      if (!present[k] || learningRate(name) === 0) return;
      const w = this.weights.get(name)!;
      tf.tidy(() => w.assign(tf.tensor(updated.subarray(start, start + size), w.shape, 'float32')));
    });
  }

  private sharedMoments(caller: string): NonNullable<Adam['shared']> {
    if (!this.shared) throw new Error(`Adam.${caller}: the moments are not shared (shareMoments first)`);
    return this.shared;
  }

  /** A weight's values as floats: a view of the wasm heap (read at once), else its data. */
  private valuesOf(w: tf.Variable): Float32Array {
    return tf.getBackend() === 'wasm' ? ((tf.backend() as BackendWasm).typedArrayFromHeap(w) as Float32Array) : (w.dataSync() as Float32Array);
  }

  /** The update on the wasm heap (native kernel; see the header), if it can run there. */
  private updatedInHeap(w: tf.Variable, gradient: Gradient, clip: GradientClip, m: tf.Variable, v: tf.Variable, step: number, root2: number): boolean {
    if (!onWasmWithSpeedups()) return false;
    const hyper = { beta1: this.beta1, beta2: this.beta2, step, root2, epsilon: this.epsilon };
    const result = nativeAdamUpdateInHeap(tf.backend() as BackendWasm, { w, m, v }, gradient, clip, hyper, step !== 0);
    if (!result.done) return false;
    if (result.weight) w.assign(tf.engine().makeTensorFromTensorInfo(result.weight)); // lr 0: the weight stays as it is, bit for bit
    return true;
  }

  /** The state as host arrays. */
  getState(): AdamState {
    if (this.shared) {
      const copy = (map: Map<string, Float32Array>) => new Map([...map].map(([k, values]) => [k, Float32Array.from(values)]));
      return { step: this.step, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, m: copy(this.shared.m), v: copy(this.shared.v) };
    }
    const read = (map: Map<string, tf.Variable>) => new Map([...map].map(([k, t]) => [k, Float32Array.from(t.dataSync())]));
    return { step: this.step, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, m: read(this.m), v: read(this.v) };
  }

  /** Restores a state taken with getState (same weight names and shapes). */
  setState(state: AdamState): void {
    if (state.beta1 !== this.beta1 || state.beta2 !== this.beta2 || state.epsilon !== this.epsilon) {
      throw new Error(`Adam.setState: the state has betas ${state.beta1}/${state.beta2} and epsilon ${state.epsilon}, this optimiser ${this.beta1}/${this.beta2} and ${this.epsilon}`);
    }
    for (const which of ['m', 'v'] as const) {
      for (const [name, w] of this.weights) {
        const data = state[which].get(name);
        if (!data) throw new Error(`Adam.setState: no ${which} for weight ${JSON.stringify(name)}`);
        if (data.length !== w.size) throw new Error(`Adam.setState: ${which} of ${JSON.stringify(name)} has ${data.length} values, the weight ${w.size}`);
      }
      for (const name of state[which].keys()) if (!this.weights.has(name)) throw new Error(`Adam.setState: the state has ${which} for an unknown weight ${JSON.stringify(name)}`);
    }
    for (const which of ['m', 'v'] as const) {
      for (const [name, w] of this.weights) {
        const data = state[which].get(name)!;
        if (this.shared) this.shared[which].get(name)!.set(data);
        else tf.tidy(() => this[which].get(name)!.assign(tf.tensor(data, w.shape, 'float32')));
      }
    }
    this.step = state.step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/**
 * n values of gradient slots `stride` floats apart from the start of `values`, summed in slot
 * order in float32 (slot 0, plus slot 1, …): the native kernel's additions, for the paths in
 * JavaScript (the tfjs-ops share update, the global norm's sum of squares).
 */
export function summedSlots(values: Float32Array, slots: number, stride: number, n: number): Float32Array {
  const g = values.slice(0, n);
  for (let s = 1; s < slots; s++) {
    for (let i = 0; i < n; i++) g[i] += values[s * stride + i];
  }
  return g;
}

/** Whether the native update may run: the wasm backend with its speedups on (else tfjs ops). */
function onWasmWithSpeedups(): boolean {
  return tf.getBackend() === 'wasm' && wasmSpeedupsEnabled();
}
