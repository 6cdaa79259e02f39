/**
 * The small element-wise parts of one decoder time step (decoder.ts `step`), forward and
 * backward, as loops over host Float32Arrays: the attention's softmax, context and gate, and
 * the LSTM cell. fused-recurrence.ts runs them between the step's backend kernels (the
 * matMuls and the [B, P, A] passes of the attention scores, which JS loops run several times
 * slower than wasm).
 * They compute what `Decoder.step` computes with tfjs ops (the definition); the training
 * equivalence test checks both give the same losses and weights. The attention's two, the
 * largest, run in native code where the native kernels do (native/heap-kernels/attention.c,
 * the same arithmetic; test/model/recurrence-kernels.test.ts checks the two agree).
 *
 * Dimensions: B rows of the step, P regions, A attention size, D feature size, G gate width
 * (1 scalar, D vector, 0 none), H hidden size. Arrays are row-major; `row` arguments index the
 * step's rows inside arrays stacked over all steps ([N, …], N real positions of the batch).
 *
 *   pre    = W_enc a + b  +  W_dec h          [B, P, A]   (the first A columns of hp)
 *   alpha  = softmax_p(v^T act(pre))          [B, P]
 *   z      = sum_p alpha_p a_p                [B, D]
 *   zg     = beta z,  beta = s(hp[A..A+G))    [B, D]
 *   [i f g o] = s, s, tanh, s (gates);  c = f c' + i g;  h = o tanh(c)
 */
import { nativeAttentionContext, nativeAttentionContextBackward } from '../compute/native-kernels';
import type { AttentionActivation, GateMode } from '../config';

/** The shape and switches of the attention part of a step. */
export interface AttentionSpec {
  P: number;
  A: number;
  D: number;
  /** Gate width: 1 (scalar), D (vector) or 0 (none). */
  G: number;
  activation: AttentionActivation;
  gate: GateMode;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * Attention forward after the scores, for rows 0..B-1 of the batch: scores [B, P] (v^T
 * act(pre), computed by attention-scores.ts), features [≥B, P, D], hp [B, A + G] (bias included) ->
 * alpha = softmax(scores), z and zg, written at rows `row`..`row + B - 1` of alpha [N, P],
 * z and zg [N, D].
 */
export function attentionContext(
  spec: AttentionSpec,
  B: number,
  scores: Float32Array,
  features: Float32Array,
  hp: Float32Array,
  out: { alpha: Float32Array; z: Float32Array; zg: Float32Array; row: number },
): void {
  if (nativeAttentionContext(spec, B, { scores, features, hp }, out)) return;
  const { P, A, D, G } = spec;
  const { alpha, z, zg } = out; // locals: V8 keeps them in registers through the loops
  const context = new Float64Array(D);
  const exps = new Float64Array(P);
  for (let b = 0; b < B; b++) {
    let max = -Infinity;
    for (let p = 0; p < P; p++) max = Math.max(max, scores[b * P + p]);
    let total = 0;
    for (let p = 0; p < P; p++) total += exps[p] = Math.exp(scores[b * P + p] - max);
    const alphaRow = (out.row + b) * P;
    context.fill(0);
    for (let p = 0; p < P; p++) {
      const weight = (alpha[alphaRow + p] = exps[p] / total);
      const base = (b * P + p) * D;
      for (let d = 0; d < D; d++) context[d] += weight * features[base + d];
    }
    const zRow = (out.row + b) * D;
    const hpRow = b * (A + G);
    for (let d = 0; d < D; d++) {
      const beta = G === 0 ? 1 : sigmoid(hp[hpRow + A + (G === 1 ? 0 : d)]);
      z[zRow + d] = context[d];
      zg[zRow + d] = beta * context[d];
    }
  }
}

/**
 * Attention backward down to the scores, for rows 0..B-1: given d zg [B, D] and d alphaSum
 * [≥B, P] (each step's alpha adds into alphaSum), writes the gate's columns of d hp [B, A + G]
 * and returns d scores [B, P]; adds into dFeatures [≥B, P, D] when given.
 */
export function attentionContextBackward(
  spec: AttentionSpec,
  B: number,
  saved: { features: Float32Array; hp: Float32Array; alpha: Float32Array; z: Float32Array; row: number },
  dzg: Float32Array,
  dAlphaSum: Float32Array,
  grads: { hp: Float32Array; features: Float32Array | null },
): Float32Array {
  const dScores = new Float32Array(B * spec.P);
  if (nativeAttentionContextBackward(spec, B, saved, { dzg, dAlphaSum }, { ...grads, scores: dScores })) return dScores;
  const { P, A, D, G } = spec;
  const { features, hp, alpha, z } = saved;
  const dz = new Float64Array(D);
  for (let b = 0; b < B; b++) {
    const hpRow = b * (A + G);
    const zRow = (saved.row + b) * D;
    const alphaRow = (saved.row + b) * P;
    // The gate: zg = beta z.
    let dScalar = 0;
    for (let d = 0; d < D; d++) {
      const dy = dzg[b * D + d];
      if (G === 0) {
        dz[d] = dy;
        continue;
      }
      const beta = sigmoid(hp[hpRow + A + (G === 1 ? 0 : d)]);
      dz[d] = dy * beta;
      const dPre = dy * z[zRow + d] * beta * (1 - beta);
      if (G === 1) dScalar += dPre;
      else grads.hp[hpRow + A + d] = dPre;
    }
    if (G === 1) grads.hp[hpRow + A] = dScalar;
    // The context z = sum_p alpha_p a_p and alpha's share of alphaSum, then the softmax.
    let dot = 0;
    for (let p = 0; p < P; p++) {
      const base = (b * P + p) * D;
      let dAlpha = dAlphaSum[b * P + p];
      for (let d = 0; d < D; d++) dAlpha += dz[d] * features[base + d];
      if (grads.features) {
        const weight = alpha[alphaRow + p];
        for (let d = 0; d < D; d++) grads.features[base + d] += weight * dz[d];
      }
      dScores[b * P + p] = dAlpha;
      dot += alpha[alphaRow + p] * dAlpha;
    }
    for (let p = 0; p < P; p++) dScores[b * P + p] = alpha[alphaRow + p] * (dScores[b * P + p] - dot);
  }
  return dScores;
}

/**
 * The scores' gradient through v^T act(pre), for rows 0..B-1, given uSum[b, a] = sum over
 * regions of u[b, p, a] = d score[b, p] act'(pre[b, p, a]) (computed by attention-scores.ts): writes
 * the attention columns of d hp [B, A + G] (v[a] uSum[b, a]) and, with ReLU, adds hp's part of
 * dv = sum u act(pre) = sum u (projected + hp) into dv [A] (the caller adds projected's part).
 */
export function scoreGradientRows(spec: AttentionSpec, B: number, uSum: Float32Array, saved: { hp: Float32Array; v: Float32Array }, grads: { hp: Float32Array; v: Float64Array }): void {
  const { A, G } = spec;
  const relu = spec.activation === 'relu';
  for (let b = 0; b < B; b++) {
    const hpRow = b * (A + G);
    for (let a = 0; a < A; a++) {
      const u = uSum[b * A + a];
      grads.hp[hpRow + a] = u * saved.v[a];
      if (relu) grads.v[a] += u * saved.hp[hpRow + a];
    }
  }
}

/**
 * The LSTM's gate pre-activations for rows 0..B-1: wordGates rows `row`.. [N, 4H] + hW [B, 4H]
 * (row stride `hWStride`) + zW [B, 4H] -> out [B, 4H], with the g block doubled: the caller takes
 * one sigmoid of all four blocks on the backend (JS's Math.exp and Math.tanh cost 10-20 ns
 * each) and tanh(g) = 2 s(2g) - 1.
 */
export function lstmPreactivations(H: number, B: number, inputs: { wordGates: Float32Array; hW: Float32Array; hWStride: number; zW: Float32Array; row: number }, out: Float32Array): Float32Array {
  const { wordGates, hW, hWStride, zW, row } = inputs;
  const G4 = 4 * H;
  for (let b = 0; b < B; b++) {
    const w = (row + b) * G4;
    const m = b * hWStride;
    for (let k = 0; k < G4; k++) out[b * G4 + k] = wordGates[w + k] + hW[m + k] + zW[b * G4 + k];
    for (let k = 2 * H; k < 3 * H; k++) out[b * G4 + k] *= 2;
  }
  return out;
}

/**
 * The LSTM cell forward for rows 0..B-1 from the sigmoids of the pre-activations (g doubled,
 * see lstmPreactivations) and c' [≥B, H]: writes the activated gates (i f g o) and tanh(c_t)
 * at rows `row`.. of gatesAll [N, 4H] and tanhC [N, H], and h, c [B, H].
 */
export function lstmCell(
  H: number,
  B: number,
  sigmoids: Float32Array,
  cPrev: Float32Array,
  out: { gates: Float32Array; tanhC: Float32Array; h: Float32Array; c: Float32Array; row: number },
): void {
  const G4 = 4 * H;
  const { gates, tanhC, h, c, row } = out;
  for (let b = 0; b < B; b++) {
    const w = (row + b) * G4;
    const n = b * G4;
    for (let j = 0; j < H; j++) {
      const i = sigmoids[n + j];
      const f = sigmoids[n + H + j];
      const g = 2 * sigmoids[n + 2 * H + j] - 1;
      const o = sigmoids[n + 3 * H + j];
      const cNext = f * cPrev[b * H + j] + i * g;
      const t = 2 / (1 + Math.exp(-2 * cNext)) - 1; // tanh(c_t)
      gates[w + j] = i;
      gates[w + H + j] = f;
      gates[w + 2 * H + j] = g;
      gates[w + 3 * H + j] = o;
      tanhC[(row + b) * H + j] = t;
      c[b * H + j] = cNext;
      h[b * H + j] = o * t;
    }
  }
}

/**
 * LSTM cell backward for rows 0..B-1 of the step at rows `row`.. of the stacked arrays:
 * dh [B, H] (the output's gradient plus the next step's), dc [B, H] (the next step's) ->
 * d gates [N, 4H] at those rows, and d c' [B, H] (written into dc).
 */
export function lstmBackward(
  H: number,
  B: number,
  saved: { gates: Float32Array; tanhC: Float32Array; cPrev: Float32Array; row: number },
  dh: Float64Array,
  dc: Float64Array,
  dGates: Float32Array,
): void {
  const G4 = 4 * H;
  for (let b = 0; b < B; b++) {
    const w = (saved.row + b) * G4;
    const s = (saved.row + b) * H;
    for (let j = 0; j < H; j++) {
      const i = saved.gates[w + j];
      const f = saved.gates[w + H + j];
      const g = saved.gates[w + 2 * H + j];
      const o = saved.gates[w + 3 * H + j];
      const k = b * H + j;
      const tc = saved.tanhC[s + j];
      const dcTotal = dc[k] + dh[k] * o * (1 - tc * tc);
      dGates[w + j] = dcTotal * g * i * (1 - i);
      dGates[w + H + j] = dcTotal * saved.cPrev[s + j] * f * (1 - f);
      dGates[w + 2 * H + j] = dcTotal * i * (1 - g * g);
      dGates[w + 3 * H + j] = dh[k] * tc * o * (1 - o);
      dc[k] = dcTotal * f;
    }
  }
}
