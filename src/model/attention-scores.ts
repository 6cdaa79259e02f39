/**
 * The attention scores of teacher forcing's time steps, forward and backward, for
 * fused-recurrence.ts: the [B, P, A] passes of a step.
 *
 *   forward, step t:   scores = act(projected + W_dec h) v                    [B_t, P]
 *   backward, step t:  u = d scores act'(pre)                                [B_t, P, A]
 *                      preSum += u (over the steps),  uSum = sum_p u           [B_t, A]
 *                      dv += d scores^T act(pre)  (tanh; ReLU's part comes from preSum)
 *   at the end:        d projected = preSum v,  ReLU: dv += sum preSum projected
 *
 * Where the native kernels run these are two native passes a step over host arrays
 * (native/heap-kernels/attention.c): no tensors, no kernel dispatch per step. Elsewhere they
 * are tfjs kernels on the backend, as fused-recurrence.ts first ran them (five to eight per
 * step); both are checked against tfjs's autodiff by test/train/optimised-equivalence.test.ts.
 * Rows are the batch's, sorted by length: step t uses the first B_t (B_0 >= B_1 >= …).
 */
import * as tf from '@tensorflow/tfjs';

import { nativeAttentionScores, nativeAttentionScoresBackward, nativeKernelsAvailable } from '../compute/native-kernels';
import { copyValuesInto } from '../compute/tensor-values';
import type { HostBuffers } from './step-products';
import type { AttentionSpec } from './recurrence-kernels';

/** The projected features of the first n rows as a backend tensor [n, P, A], made once per distinct n instead of sliced at every step. */
class RowPrefixes {
  private current: { rows: number; tensor: tf.Tensor3D } | null = null;
  constructor(
    private readonly data: Float32Array,
    private readonly rowShape: [number, number],
  ) {}
  rows(n: number): tf.Tensor3D {
    if (this.current?.rows !== n) {
      this.current?.tensor.dispose();
      const [P, A] = this.rowShape;
      this.current = { rows: n, tensor: tf.keep(tf.tensor3d(this.data.subarray(0, n * P * A), [n, P, A])) }; // kept out of the callers' tidy scopes
    }
    return this.current.tensor;
  }
  dispose(): void {
    this.current?.tensor.dispose();
    this.current = null;
  }
}

/** A batch's attention scores: the projected features [B, P, A] of its rows and v [A]. */
export class AttentionScores {
  private readonly native = nativeKernelsAvailable();
  private readonly rows: RowPrefixes;
  /** Backward: sum over the steps done of u, on the host [B, P, A] (native) or the backend [B_t, P, A]. */
  private preSumHost: Float32Array | null = null;
  private preSum: tf.Tensor3D | null = null;

  /**
   * `projected` [B, P, A] (host, rows as the batch's), `v` the score weight [A, 1] (a backend
   * tensor) and its values, `buffers` for the per-step results.
   */
  constructor(
    private readonly spec: AttentionSpec,
    private readonly projected: Float32Array,
    private readonly v: tf.Tensor,
    private readonly vHost: Float32Array,
    private readonly buffers: HostBuffers,
  ) {
    this.rows = new RowPrefixes(projected, [spec.P, spec.A]);
  }

  /** Scores [B_t, P] of the first B_t rows, hp [B_t, A + G] their hidden projections (bias included). */
  forward(Bt: number, hp: Float32Array): Float32Array {
    const { P, A, activation } = this.spec;
    const scores = this.buffers.get('scores', Bt * P);
    if (this.native) {
      nativeAttentionScores(this.spec, Bt, { projected: this.projected, hp, v: this.vHost }, scores);
      return scores;
    }
    const result = tf.tidy(() => activate(this.preActivations(Bt, hp), activation).reshape([Bt * P, A]).matMul(this.v as tf.Tensor2D)); // [B_t * P, 1]
    copyValuesInto(result, scores);
    result.dispose();
    return scores;
  }

  /**
   * Backward through step t's scores given d scores [B_t, P]: uSum [B_t, A] (u summed over the
   * regions), with u also added into the steps' sum; with tanh, adds d scores^T act(pre) into dv [A].
   */
  backward(Bt: number, hp: Float32Array, dScores: Float32Array, dv: Float64Array): Float32Array {
    const { P, A, activation } = this.spec;
    const uSum = this.buffers.get('uSum', Bt * A);
    if (this.native) {
      this.preSumHost ??= this.buffers.get('preSum', this.projected.length).fill(0);
      const dvStep = this.buffers.get('dvStep', A);
      nativeAttentionScoresBackward(this.spec, Bt, { projected: this.projected, hp, dScores }, { preSum: this.preSumHost, uSum, dv: dvStep });
      if (activation === 'tanh') for (let a = 0; a < A; a++) dv[a] += dvStep[a];
      return uSum;
    }
    const [nextSum, uOverRegions] = tf.tidy(() => {
      const pre = this.preActivations(Bt, hp); // [B_t, P, A]
      const ds = tf.tensor3d(dScores.subarray(0, Bt * P), [Bt, P, 1]);
      let u: tf.Tensor3D;
      if (activation === 'relu') u = ds.mul(tf.step(pre));
      else {
        const act = tf.tanh(pre);
        const dvTanh = ds.reshape([1, Bt * P]).matMul(act.reshape([Bt * P, A])).dataSync(); // [1, A]
        for (let a = 0; a < A; a++) dv[a] += dvTanh[a];
        u = ds.mul(tf.scalar(1).sub(act.square()));
      }
      const grown = this.preSum && this.preSum.shape[0] < Bt ? this.preSum.pad([[0, Bt - this.preSum.shape[0]], [0, 0], [0, 0]]) : this.preSum; // backwards in time B_t only grows
      return [tf.keep(grown ? grown.add(u) : u) as tf.Tensor3D, u.sum(1) as tf.Tensor2D]; // [B_t, P, A], [B_t, A]
    });
    this.preSum?.dispose();
    this.preSum = nextSum;
    copyValuesInto(uOverRegions, uSum);
    uOverRegions.dispose();
    return uSum;
  }

  /** After the last step backward: d projected [B, P, A] = preSum v; with ReLU, adds sum preSum projected (over rows and regions) into dv [A]. */
  finish(dv: Float64Array): Float32Array {
    const { P, A, activation } = this.spec;
    const B = this.projected.length / (P * A);
    const out = this.buffers.get('projectedGrad', B * P * A);
    if (this.native) {
      const sum = this.preSumHost ?? this.buffers.get('preSum', B * P * A).fill(0);
      for (let i = 0; i < B * P; i++) {
        for (let a = 0; a < A; a++) {
          const s = sum[i * A + a];
          out[i * A + a] = s * this.vHost[a];
          if (activation === 'relu') dv[a] += s * this.projected[i * A + a];
        }
      }
      return out;
    }
    const result = tf.tidy(() => {
      const steps = this.preSum ?? tf.zeros([B, P, A]); // (no step backward: no gradient)
      const sum = steps.shape[0] < B ? steps.pad([[0, B - steps.shape[0]], [0, 0], [0, 0]]) : steps; // [B, P, A]
      if (activation === 'relu') {
        const dvProjected = sum.mul(this.rows.rows(B)).sum([0, 1]).dataSync(); // [A]
        for (let a = 0; a < A; a++) dv[a] += dvProjected[a];
      }
      return sum.mul(this.v.reshape([A]));
    });
    copyValuesInto(result, out);
    result.dispose();
    return out;
  }

  dispose(): void {
    this.rows.dispose();
    this.preSum?.dispose();
    this.preSum = null;
  }

  /** pre = projected [B_t, P, A] + W_dec h [B_t, A] on the backend. */
  private preActivations(Bt: number, hp: Float32Array): tf.Tensor3D {
    const { A, G } = this.spec;
    const hiddenAtt = this.buffers.get('hiddenAtt', Bt * A); // copied into the tensor below at once
    for (let b = 0; b < Bt; b++) hiddenAtt.set(hp.subarray(b * (A + G), b * (A + G) + A), b * A);
    return this.rows.rows(Bt).add(tf.tensor3d(hiddenAtt, [Bt, 1, A]));
  }
}

const activate = (pre: tf.Tensor3D, activation: AttentionSpec['activation']): tf.Tensor3D => (activation === 'relu' ? tf.relu(pre) : tf.tanh(pre));
