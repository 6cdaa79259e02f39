/**
 * Teacher forcing's recurrence as one operation with a hand-written backward pass through
 * time (issue #16: fewer kernels per step). Written with tfjs ops, a time step of
 * `Decoder.step` is about 60 kernels forward and backward (slices, pads, adds, reshapes, the
 * attention's pieces), and at the quick profile's small shapes a step pays more for
 * dispatching kernels than for arithmetic, and taping it keeps a copy of every input. Here a
 * time step is four products of its rows with the recurrent weights (two forward, two
 * backward: native calls on weights packed once per batch where the native kernels run,
 * step-products.ts, else matMuls on the backend), the [B, P, A] passes of the attention
 * scores (attention-scores.ts: native passes, else backend kernels), all outside the tape,
 * and loops over host arrays for the rest (recurrence-kernels.ts; the attention's natively
 * where the native kernels run); the weight gradients of all steps are one matMul each, over
 * the stacked rows of the batch. The images enter once each ([U, …], as encoded) and are
 * picked per caption on the host, so no gather of the [B, P, D] features runs.
 *
 *   forward, step t on its B_t rows:   m  = h_{t-1} [W_h | W_hp]           [B_t, 4H + A + G]
 *                                       scores = act(pre) v                 [B_t, P] (attention-scores.ts)
 *                                       alpha, zg = softmax, context, gate  host
 *                                       zW = zg W_z                         [B_t, 4H]
 *                                       h_t, c_t = lstm(wordGates_t + m's hW + zW)   host
 *   backward, t = T-1 .. 0:             d gates = lstm'(dh, dc)             host
 *                                       [d zg | dh'] = d gates W_rec^T      [B_t, D + H]
 *                                       d scores = attention'(d zg)         host
 *                                       d pre = d scores act'(pre), dv      attention-scores.ts; d hp host
 *                                       dh_{t-1} = dh' + d hp W_hp^T        [B_t, H]
 *   weights:  dW_rec = [zg | h_{t-1}]^T d gates,  dW_hp = h_{t-1}^T d hp    (all steps at once)
 *
 * W_rec = [W_z; W_h] is the LSTM's recurrent kernel [D + H, 4H] (context rows, then hidden
 * rows), W_hp the hidden projection [H, A + G] (attention, then gate). The same numbers as
 * the per-step path up to float rounding: test/train/optimised-equivalence.test.ts.
 * Soft attention only (the mean-context ablation takes the per-step path), on the wasm
 * backend: the host loops read tensors back every step, which suits CPU backends only.
 */
import * as tf from '@tensorflow/tfjs';

import { sharedPanelsOf } from '../compute/shared-panels';
import { copyValuesInto } from '../compute/tensor-values';
import { type AttentionSpec, attentionContext, attentionContextBackward, lstmBackward, lstmCell, lstmPreactivations, scoreGradientRows } from './recurrence-kernels';
import { AttentionScores } from './attention-scores';
import { StepWeight } from './step-products';

/** The decoder weights the recurrence reads (decoder.ts names them). */
export interface RecurrenceWeights {
  recurrent: tf.Variable; // W_rec [D + H, 4H]
  hidden: tf.Variable; // W_hp [H, A + G]
  hiddenBias: tf.Variable; // [A + G]
  score: tf.Variable; // v [A, 1]
}

/** What the recurrence starts from: the batch's word gates and initial state (rows sorted by length) and its distinct images, encoded. */
export interface RecurrenceInputs {
  wordGates: tf.Tensor2D; // [N, 4H], W_x x + b of every real position, step by step
  projected: tf.Tensor3D; // [U, P, A]
  features: tf.Tensor3D; // [U, P, D]
  h0: tf.Tensor2D; // [B, H]
  c0: tf.Tensor2D; // [B, H]
}

/**
 * Reusable host buffers: the per-step results read back from the backend land in these
 * instead of fresh arrays (dataSync copies into a new array each time: at the quick
 * profile's shapes about 25 MB a batch, whose collection, on V8's helper threads, took the
 * second core from a run training beside this one).
 */
class Scratch {
  private readonly buffers = new Map<string, Float32Array>();
  get(name: string, length: number): Float32Array {
    let buffer = this.buffers.get(name);
    if (!buffer || buffer.length < length) this.buffers.set(name, (buffer = new Float32Array(length)));
    return buffer.subarray(0, length);
  }
  /** A buffer of zeros. */
  zeros(name: string, length: number): Float32Array {
    return this.get(name, length).fill(0);
  }
}

/**
 * This thread's buffers, reused from batch to batch (a batch's forward and backward run one
 * after the other inside tf.variableGrads; a forward without a backward, as in validation,
 * leaves nothing behind that matters). Arrays of a batch's size, allocated afresh, went to
 * V8's large-object space and each batch set off a full collection.
 */
const scratch = new Scratch();

/** A tensor's values copied into a scratch buffer, straight from the wasm heap. */
function readInto(t: tf.Tensor, name: string): Float32Array {
  const out = scratch.get(name, t.size);
  copyValuesInto(t, out);
  return out;
}

/** Runs `fn` and reads its result back into scratch `name`, freeing every tensor it made. */
function readBack(fn: () => tf.Tensor, name: string): Float32Array {
  const result = tf.tidy(fn);
  const values = readInto(result, name);
  result.dispose();
  return values;
}


/** Rows of [U, ...rowSize] host data picked by `index` [B]: [B, ...rowSize], into scratch `name`. */
function gatherRows(data: Float32Array, rowSize: number, index: Int32Array, name: string): Float32Array {
  const out = scratch.get(name, index.length * rowSize);
  index.forEach((u, b) => out.set(data.subarray(u * rowSize, (u + 1) * rowSize), b * rowSize));
  return out;
}

/** The transpose of [rows, cols] host data: [cols, rows] (matMuls with a transposed left operand are slow on wasm), into `out`. */
function transposeHost(data: Float32Array, rows: number, cols: number, out: Float32Array): Float32Array {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}


/**
 * Runs the recurrence over the steps of `stepSizes` (B_0 >= B_1 >= …, sum N): the stacked
 * hidden states [N, H] of every real position and alphaSum [B, P] (sum over each caption's
 * steps of its attention weights). The encoded images come once per distinct image ([U, …])
 * with `imageOf` [B] naming each sorted row's image. Differentiable in every input and
 * weight; `featureGradients: false` skips d features (cached features of a frozen encoder).
 */
export function fusedRecurrence(
  spec: AttentionSpec & { H: number },
  weights: RecurrenceWeights,
  inputs: RecurrenceInputs,
  imageOf: Int32Array,
  stepSizes: readonly number[],
  featureGradients: boolean,
): { hidden: tf.Tensor2D; alphaSum: tf.Tensor2D } {
  const { P, A, D, G, H } = spec;
  const B = imageOf.length;
  const U = inputs.features.shape[0];
  const N = stepSizes.reduce((a, b) => a + b, 0);
  const G4 = 4 * H;
  const HP = A + G;
  const rowOf: number[] = [];
  stepSizes.reduce((offset, Bt) => (rowOf.push(offset), offset + Bt), 0);

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    // The features are an input (and get a gradient) only when a trainable encoder made them.
    const [wordGates, projected, h0, c0, wRec, wHp, bHp, v] = args as tf.Tensor[];
    const features = featureGradients ? (args[8] as tf.Tensor) : inputs.features; // (after the inputs, customGrad passes its save function)
    const wordGatesHost = readInto(wordGates, 'wordGates');
    const projectedHost = gatherRows(readInto(projected, 'projectedImages'), P * A, imageOf, 'projected'); // [B, P, A]
    const featuresHost = gatherRows(readInto(features, 'featureImages'), P * D, imageOf, 'features'); // [B, P, D]
    const vHost = readInto(v, 'v');
    const biasHost = readInto(bHp, 'bias');
    const scoring = new AttentionScores(spec, projectedHost, v, vHost, scratch); // [B, P, A] passes of each step's scores
    const shared = sharedPanelsOf(weights.recurrent); // the packed weights data-parallel workers share, if any
    const forwardWeights = [
      { key: 'wZ', weight: { rows: D, blocks: [{ weight: wRec as tf.Tensor2D, firstRow: 0 }] }, transposed: false }, // [D, 4H]: W_rec's rows for z
      { key: 'wHh', weight: { rows: H, blocks: [{ weight: wRec as tf.Tensor2D, firstRow: D }, { weight: wHp as tf.Tensor2D, firstRow: 0 }] }, transposed: false }, // [H, 4H + A + G]: W_rec's rows for h beside W_hp
    ];
    shared?.panels.prepack(forwardWeights, shared.version); // workers arriving together pack one each
    const [wZ, wHh] = forwardWeights.map(({ key, weight, transposed }) => new StepWeight(weight, transposed, scratch, key, shared));
    // Saved for the backward pass, stacked over the steps' rows: [N, …].
    const saved = {
      hp: scratch.get('saved.hp', N * HP),
      alpha: scratch.get('saved.alpha', N * P),
      z: scratch.get('saved.z', N * D),
      zg: scratch.get('saved.zg', N * D),
      gates: scratch.get('saved.gates', N * G4),
      hPrev: scratch.get('saved.hPrev', N * H),
      cPrev: scratch.get('saved.cPrev', N * H),
      tanhC: scratch.get('saved.tanhC', N * H),
    };
    const hidden = scratch.zeros('hidden', N * H + B * P); // [N, H] then alphaSum [B, P]: one output
    let h = readInto(h0, 'h0'); // [B_t, H]
    let c = readInto(c0, 'c0');
    stepSizes.forEach((Bt, t) => {
      const row = rowOf[t];
      saved.hPrev.set(h.subarray(0, Bt * H), row * H);
      saved.cPrev.set(c.subarray(0, Bt * H), row * H);
      const m = wHh.times(h, Bt, 'm'); // [B_t, 4H + A + G]
      const hp = saved.hp.subarray(row * HP, (row + Bt) * HP); // [B_t, A + G]
      for (let b = 0; b < Bt; b++) for (let k = 0; k < HP; k++) hp[b * HP + k] = m[b * (G4 + HP) + G4 + k] + biasHost[k];
      const scores = scoring.forward(Bt, hp); // [B_t, P]
      attentionContext(spec, Bt, scores, featuresHost, hp, { alpha: saved.alpha, z: saved.z, zg: saved.zg, row });
      const zW = wZ.times(saved.zg.subarray(row * D), Bt, 'zW'); // [B_t, 4H]
      const pre = lstmPreactivations(H, Bt, { wordGates: wordGatesHost, hW: m, hWStride: G4 + HP, zW, row }, scratch.get('pre', Bt * G4)); // [B_t, 4H], g doubled
      const sigmoids = readBack(() => tf.sigmoid(tf.tensor1d(pre)), 'sigmoids'); // one vectorised kernel for the four gates
      const next = { gates: saved.gates, tanhC: saved.tanhC, h: scratch.get(`h${t % 2}`, Bt * H), c: scratch.get(`c${t % 2}`, Bt * H), row }; // the state ping-pongs between two buffers
      lstmCell(H, Bt, sigmoids, c, next);
      hidden.set(next.h, row * H);
      for (let b = 0; b < Bt; b++) for (let p = 0; p < P; p++) hidden[N * H + b * P + p] += saved.alpha[(row + b) * P + p];
      h = next.h;
      c = next.c;
    });
    scoring.dispose();

    const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
      const dyHost = readInto(dy, 'dy');
      const dAlphaSum = dyHost.subarray(N * H); // [B, P]
      const dGates = scratch.get('dGates', N * G4); // every row written by lstmBackward
      const dHp = scratch.get('dHp', N * HP); // every row written, the gate's columns and then the attention's
      const dV = new Float64Array(A);
      const dFeatures = featureGradients ? scratch.zeros('dFeatures', B * P * D) : null;
      const dhNext = new Float64Array(B * H); // rows at or past the next step's B are 0
      const dcNext = new Float64Array(B * H);
      const dzg = scratch.get('dzg', B * D);
      const scoresBack = new AttentionScores(spec, projectedHost, v, vHost, scratch);
      const backwardWeights = [
        { key: 'wRecT', weight: wRec as tf.Tensor2D, transposed: true }, // [4H, D + H]
        { key: 'wHpT', weight: wHp as tf.Tensor2D, transposed: true }, // [A + G, H]
      ];
      shared?.panels.prepack(backwardWeights, shared.version);
      const [wRecT, wHpT] = backwardWeights.map(({ key, weight, transposed }) => new StepWeight(weight, transposed, scratch, key, shared));
      for (let t = stepSizes.length - 1; t >= 0; t--) {
        const Bt = stepSizes[t];
        const row = rowOf[t];
        for (let k = 0; k < Bt * H; k++) dhNext[k] += dyHost[row * H + k];
        lstmBackward(H, Bt, { gates: saved.gates, tanhC: saved.tanhC, cPrev: saved.cPrev, row }, dhNext, dcNext, dGates);
        const dx = wRecT.times(dGates.subarray(row * G4), Bt, 'dx'); // [B_t, D + H]
        for (let b = 0; b < Bt; b++) for (let d = 0; d < D; d++) dzg[b * D + d] = dx[b * (D + H) + d];
        const hp = saved.hp.subarray(row * HP);
        const stepHp = dHp.subarray(row * HP);
        const dScores = attentionContextBackward(spec, Bt, { features: featuresHost, hp, alpha: saved.alpha, z: saved.z, row }, dzg, dAlphaSum, { hp: stepHp, features: dFeatures });
        // Through the scores v^T act(pre): u = d score act'(pre) [B_t, P, A] (d pre = u v), summed over the steps and, for d hp, over the regions.
        const uSum = scoresBack.backward(Bt, hp, dScores, dV); // [B_t, A]
        scoreGradientRows(spec, Bt, uSum, { hp, v: vHost }, { hp: stepHp, v: dV });
        const dhFromHp = wHpT.times(dHp.subarray(row * HP), Bt, 'dhFromHp'); // [B_t, H]
        for (let b = 0; b < Bt; b++) for (let j = 0; j < H; j++) dhNext[b * H + j] = dx[b * (D + H) + D + j] + dhFromHp[b * H + j];
      }
      // d projected = v (sum_t u_t); with ReLU, dv gets the rest of sum u act(pre) = sum u (projected + hp): its projected part.
      const projectedGrad = scoresBack.finish(dV); // [B, P, A]
      scoresBack.dispose();
      // The weights, over all steps at once; left operands transposed on the host.
      const xT = scratch.get('xT', (D + H) * N); // [D + H, N]: the rows [zg | h_{t-1}] that met W_rec, transposed
      transposeHost(saved.zg, N, D, xT.subarray(0, D * N));
      const hPrevT = transposeHost(saved.hPrev, N, H, xT.subarray(D * N)); // [H, N]
      const dGatesTensor = tf.tensor2d(dGates, [N, G4]);
      const dBias = new Float32Array(HP);
      for (let n = 0; n < N; n++) for (let k = 0; k < HP; k++) dBias[k] += dHp[n * HP + k];
      // Per-row gradients of the encoded images, summed per image: [B, …] -> [U, …].
      const perImage = (perRow: Float32Array, rowSize: number): Float32Array => {
        const out = scratch.zeros(`perImage${rowSize}`, U * rowSize);
        imageOf.forEach((u, b) => {
          for (let k = 0; k < rowSize; k++) out[u * rowSize + k] += perRow[b * rowSize + k];
        });
        return out;
      };
      return [
        dGatesTensor, // d wordGates [N, 4H]
        tf.tensor3d(perImage(projectedGrad, P * A), [U, P, A]),
        tf.tensor2d(Float32Array.from(dhNext), [B, H]), // d h0
        tf.tensor2d(Float32Array.from(dcNext), [B, H]), // d c0
        tf.matMul(tf.tensor2d(xT, [D + H, N]), dGatesTensor), // d W_rec [D + H, 4H]
        tf.matMul(tf.tensor2d(hPrevT, [H, N]), tf.tensor2d(dHp, [N, HP])), // d W_hp [H, A + G]
        tf.tensor1d(dBias), // d b_hp [A + G]
        tf.tensor2d(Float32Array.from(dV), [A, 1]), // d v
        ...(dFeatures ? [tf.tensor3d(perImage(dFeatures, P * D), [U, P, D])] : []), // d features
      ];
    };
    return { value: tf.tensor1d(hidden), gradFunc };
  });

  return tf.tidy(() => {
    const { wordGates, projected, features, h0, c0 } = inputs;
    const differentiable = [wordGates, projected, h0, c0, weights.recurrent, weights.hidden, weights.hiddenBias, weights.score, ...(featureGradients ? [features] : [])];
    const packed = op(...differentiable) as tf.Tensor1D; // [N*H + B*P]
    return {
      hidden: packed.slice(0, N * H).reshape([N, H]) as tf.Tensor2D, // [N, H]
      alphaSum: packed.slice(N * H, B * P).reshape([B, P]) as tf.Tensor2D, // [B, P]
    };
  });
}
