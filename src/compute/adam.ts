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
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { nativeAdamUpdate } from './native-kernels';
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
        const scaled = clip.scale === 1 ? raw : raw.mul(clip.scale);
        const g = clip.limit === Infinity ? scaled : tf.where(tf.isNaN(scaled), scaled, tf.clipByValue(scaled, -clip.limit, clip.limit)); // a NaN stays NaN, as in PyTorch's clamp (wasm's clipByValue turns it into a number)
        // The moments advance whatever the learning rate (as in PyTorch, lr only scales the update).
        const m1 = m.mul(this.beta1).add(g.mul(1 - this.beta1)); // same shape as w
        const v1 = v.mul(this.beta2).add(g.square().mul(1 - this.beta2));
        m.assign(m1);
        v.assign(v1);
        if (lr === 0) continue; // the weight stays as it is, bit for bit
        const denom = v1.sqrt().div(root2).add(this.epsilon); // sqrt(v_hat) + eps
        w.assign(w.sub(m1.div(denom).mul(lr / biasCorrection1)));
      }
    });
  }

  /** The update on the wasm heap (native kernel; see the header), if it can run there. */
  private updatedInHeap(w: tf.Variable, gradient: Gradient, clip: GradientClip, m: tf.Variable, v: tf.Variable, step: number, root2: number): boolean {
    if (tf.getBackend() !== 'wasm' || !wasmSpeedupsEnabled()) return false;
    const hyper = { beta1: this.beta1, beta2: this.beta2, step, root2, epsilon: this.epsilon };
    const result = nativeAdamUpdate(tf.backend() as BackendWasm, { w, m, v }, gradient, clip, hyper, step !== 0);
    if (!result.done) return false;
    if (result.weight) w.assign(tf.engine().makeTensorFromTensorInfo(result.weight)); // lr 0: the weight stays as it is, bit for bit
    return true;
  }

  /** The state as host arrays. */
  getState(): AdamState {
    const read = (map: Map<string, tf.Variable>) => new Map([...map].map(([k, t]) => [k, Float32Array.from(t.dataSync())]));
    return { step: this.step, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, m: read(this.m), v: read(this.v) };
  }

  /** Restores a state taken with getState (same weight names and shapes). */
  setState(state: AdamState): void {
    if (state.beta1 !== this.beta1 || state.beta2 !== this.beta2 || state.epsilon !== this.epsilon) {
      throw new Error(`Adam.setState: the state has betas ${state.beta1}/${state.beta2} and epsilon ${state.epsilon}, this optimiser ${this.beta1}/${this.beta2} and ${this.epsilon}`);
    }
    for (const [which, own, saved] of [['m', this.m, state.m], ['v', this.v, state.v]] as const) {
      for (const [name, variable] of own) {
        const data = saved.get(name);
        if (!data) throw new Error(`Adam.setState: no ${which} for weight ${JSON.stringify(name)}`);
        if (data.length !== variable.size) throw new Error(`Adam.setState: ${which} of ${JSON.stringify(name)} has ${data.length} values, the weight ${variable.size}`);
        tf.tidy(() => variable.assign(tf.tensor(data, variable.shape, 'float32')));
      }
      for (const name of saved.keys()) if (!own.has(name)) throw new Error(`Adam.setState: the state has ${which} for an unknown weight ${JSON.stringify(name)}`);
    }
    this.step = state.step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
