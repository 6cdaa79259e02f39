/**
 * The Show-Attend-Tell decoder: soft attention + LSTM, with the reference code's switches.
 *
 * Dimensions, named once: B captions (or beams), P regions, D feature size, E word-vector
 * size, H hidden size, A attention size, V vocabulary size, T steps, N real (unpadded)
 * tokens of a batch.
 *
 *   h0, c0  = W_init mean_i(a_i) + b                      linear layers on the mean feature
 *   alpha_t, z_t = attention(a, h_{t-1})                   attention.ts (or the mean, no attention)
 *   beta_t  = sigmoid(W_beta h_{t-1} + b)                  scalar (paper) | vector [D] (reference) | none
 *   [i f g o] = W_x x_{t-1} + W_zh [beta_t z_t; h_{t-1}] + b          the four gates in one matMul
 *   c_t = s(f) c_{t-1} + s(i) tanh(g);  h_t = s(o) tanh(c_t)
 *   logits_t = W_out dropout(h_t) + b_out                  dropout before the output layer
 *
 * `step()` is the only implementation of one time step; teacher forcing (captioner.ts),
 * greedy decoding and beam search (decode-step.ts) all call it. What does not depend on the recurrence is
 * done once per batch by the callers through this class: the attention projection of the
 * features (`encode`), and the word vectors times the LSTM's input weights for every step
 * (`projectWords`). W_dec h and the gate's W_beta h share one matMul per step.
 */
import * as tf from '@tensorflow/tfjs';

import type { Seed } from '../common/random';
import { type AttentionWeights, attend, projectFeatures } from './attention';
import { defaultLimit, uniformVariable, zerosVariable } from '../compute/init';
import { fusedRecurrence } from './fused-recurrence';
import { lstmCell } from './lstm-cell';
import { wasmSpeedupsEnabled } from '../compute/wasm-speedups';
import { tidyObject } from './tidy';
import type { AttentionActivation, ContextMode, GateMode } from '../config';

/** How the context vector is formed: soft attention (the model) or the mean feature (ablation). */
/** The gate on the context: a scalar beta (paper), a vector (reference code), or none. */

export interface DecoderOptions {
  vocabularySize: number; // V
  featureDim: number; // D
  embeddingDim: number; // E
  hiddenSize: number; // H
  attentionSize: number; // A
  attentionActivation: AttentionActivation;
  context: ContextMode;
  gate: GateMode;
  /** Seed of the initial weights. */
  seed: Seed;
  /** Output layer (and embedding) init range, default 0.1 as the reference code. */
  initRange?: number;
}

/** The recurrent state: h and c, [B, H] each. */
export interface DecoderState {
  h: tf.Tensor2D; // [B, H]
  c: tf.Tensor2D; // [B, H]
}

/** A batch of images as the decoder reads them; `projected` is W_enc a + b (null without attention). */
export interface EncodedImages {
  features: tf.Tensor3D; // [B, P, D]
  projected: tf.Tensor3D | null; // [B, P, A]
  mean: tf.Tensor2D; // [B, D]
}

/** What one step returns. `logits` is absent when the caller asked for none (teacher forcing batches them). */
export interface StepResult {
  logits?: tf.Tensor2D; // [B, V]
  state: DecoderState;
  alpha: tf.Tensor2D; // [B, P]
}

export class Decoder {
  readonly options: Required<DecoderOptions>;
  /** Every trainable weight, by a stable name (checkpoints use these names). */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  private readonly attention: AttentionWeights | null;
  /** [W_dec | W_beta] [H, A' + G] and bias; A' = A with attention else 0; G = 1, D or 0. */
  private readonly hiddenProj: tf.Variable | null;
  private readonly hiddenBias: tf.Variable | null;
  private readonly gateSize: number;
  private readonly init: tf.Variable; // [D, 2H]
  private readonly initBias: tf.Variable; // [2H]
  private readonly wordKernel: tf.Variable; // [E, 4H]
  private readonly lstmBias: tf.Variable; // [4H]
  private readonly recurrentKernel: tf.Variable; // [D + H, 4H]
  private readonly out: tf.Variable; // [H, V]
  private readonly outBias: tf.Variable; // [V]

  constructor(options: DecoderOptions) {
    const o: Required<DecoderOptions> = { initRange: 0.1, ...options };
    for (const key of ['vocabularySize', 'featureDim', 'embeddingDim', 'hiddenSize', 'attentionSize'] as const) {
      if (!Number.isInteger(o[key]) || o[key] < 1) throw new Error(`Decoder: ${key} must be a whole number >= 1, got ${o[key]}`);
    }
    this.options = o;
    const { vocabularySize: V, featureDim: D, embeddingDim: E, hiddenSize: H, attentionSize: A, seed } = o;
    const vars = new Map<string, tf.Variable>();
    const uniform = (name: string, shape: number[], limit: number) => {
      const v = uniformVariable(shape, limit, seed, name);
      vars.set(name, v);
      return v;
    };
    const soft = o.context === 'soft-attention';
    this.attention = soft
      ? { encoder: uniform('attention.encoder', [D, A], defaultLimit(D)), bias: uniform('attention.bias', [A], defaultLimit(D)), score: uniform('attention.score', [A, 1], defaultLimit(A)) }
      : null;
    this.gateSize = o.gate === 'scalar' ? 1 : o.gate === 'vector' ? D : 0;
    const hiddenOut = (soft ? A : 0) + this.gateSize;
    this.hiddenProj = hiddenOut > 0 ? uniform('hidden.kernel', [H, hiddenOut], defaultLimit(H)) : null;
    this.hiddenBias = hiddenOut > 0 ? uniform('hidden.bias', [hiddenOut], defaultLimit(H)) : null;
    this.init = uniform('init.kernel', [D, 2 * H], defaultLimit(D));
    this.initBias = uniform('init.bias', [2 * H], defaultLimit(D));
    this.wordKernel = uniform('lstm.word', [E, 4 * H], defaultLimit(H));
    this.recurrentKernel = uniform('lstm.recurrent', [D + H, 4 * H], defaultLimit(H));
    this.lstmBias = uniform('lstm.bias', [4 * H], defaultLimit(H));
    this.out = uniform('output.kernel', [H, V], o.initRange);
    this.outBias = zerosVariable([V], 'output.bias');
    vars.set('output.bias', this.outBias);
    this.variables = vars;
  }

  /** Once per batch: features [B, P, D] -> the attention projection and the mean feature. */
  encode(features: tf.Tensor3D): EncodedImages {
    return tidyObject(() => {
      const [B, P, D] = features.shape;
      const { featureDim } = this.options;
      if (D !== featureDim || P < 1 || B < 1) {
        throw new Error(`Decoder.encode: features must be [B, P, ${featureDim}], got [${features.shape}]`);
      }
      const projected = this.attention ? projectFeatures(this.attention, features) : null; // [B, P, A]
      const mean = features.mean(1) as tf.Tensor2D; // [B, D]
      return { features: tf.clone(features), projected, mean };
    });
  }

  /** The first `n` images of an encoded batch (teacher forcing shrinks the batch as captions end). */
  static rows(encoded: EncodedImages, n: number): EncodedImages {
    const [B, P, D] = encoded.features.shape;
    if (n === B) return encoded;
    return tidyObject(() => ({
      features: encoded.features.slice([0, 0, 0], [n, P, D]), // [n, P, D]
      projected: encoded.projected ? encoded.projected.slice([0, 0, 0], [n, P, encoded.projected.shape[2]]) : null, // [n, P, A]
      mean: encoded.mean.slice([0, 0], [n, D]), // [n, D]
    }));
  }

  /** Rows of an encoded batch picked by index (beam search: one row per beam). */
  static gather(encoded: EncodedImages, index: tf.Tensor1D): EncodedImages {
    return tidyObject(() => ({
      features: tf.gather(encoded.features, index) as tf.Tensor3D, // [K, P, D]
      projected: encoded.projected ? (tf.gather(encoded.projected, index) as tf.Tensor3D) : null, // [K, P, A]
      mean: tf.gather(encoded.mean, index) as tf.Tensor2D, // [K, D]
    }));
  }

  /** Frees an encoded batch. */
  static dispose(encoded: EncodedImages): void {
    encoded.features.dispose();
    encoded.projected?.dispose();
    encoded.mean.dispose();
  }

  /** h0 and c0 from the mean feature. */
  initialState(encoded: EncodedImages): DecoderState {
    return tf.tidy(() => {
      const H = this.options.hiddenSize;
      const both = encoded.mean.matMul(this.init as tf.Tensor2D).add(this.initBias) as tf.Tensor2D; // [B, 2H]
      const [h, c] = tf.split(both, [H, H], 1) as [tf.Tensor2D, tf.Tensor2D]; // [B, H] each
      return { h, c };
    });
  }

  /** Word vectors times the LSTM's input weights, plus the LSTM bias: [N, E] -> [N, 4H]. Once per batch. */
  projectWords(vectors: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => vectors.matMul(this.wordKernel as tf.Tensor2D).add(this.lstmBias) as tf.Tensor2D); // [N, 4H]
  }

  /** The output layer: h [N, H] -> logits [N, V] (dropout is the caller's: teacher forcing only). */
  output(h: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => h.matMul(this.out as tf.Tensor2D).add(this.outBias) as tf.Tensor2D); // [N, V]
  }

  /**
   * One time step for B rows: projected word inputs [B, 4H] (from `projectWords`), the state
   * [B, H] x 2, and the encoded images of the same B rows. Returns the new state, the
   * attention weights [B, P] and, unless `logits: false`, the logits [B, V]. `training: true`
   * (teacher forcing) picks the fused LSTM cell and attention context (lstm-cell.ts,
   * attention.ts `weightedSum`), which pay off under a gradient tape; same numbers.
   */
  step(wordGates: tf.Tensor2D, state: DecoderState, encoded: EncodedImages, options: { logits?: boolean; training?: boolean } = {}): StepResult {
    return tidyObject(() => {
      const [B, G4] = wordGates.shape;
      const { hiddenSize: H, attentionSize: A, attentionActivation } = this.options;
      const P = encoded.features.shape[1];
      if (G4 !== 4 * H || state.h.shape[0] !== B || encoded.features.shape[0] !== B) {
        throw new Error(`Decoder.step: word inputs [${wordGates.shape}], h [${state.h.shape}], features [${encoded.features.shape}] must share B rows and 4H = ${4 * H}`);
      }
      // Phase 1: everything that reads h_{t-1}: W_dec h and the gate's W_beta h, one matMul.
      const hp = this.hiddenProj ? (state.h.matMul(this.hiddenProj as tf.Tensor2D).add(this.hiddenBias!) as tf.Tensor2D) : null; // [B, A' + G]
      // Phase 2: context (soft attention, or the mean feature).
      let alpha: tf.Tensor2D;
      let context: tf.Tensor2D;
      if (this.attention) {
        const hiddenAtt = this.gateSize > 0 ? hp!.slice([0, 0], [B, A]) : hp!; // [B, A]
        ({ alpha, context } = attend(this.attention, attentionActivation, encoded.projected!, hiddenAtt, encoded.features, options.training ?? false)); // [B, P], [B, D]
      } else {
        alpha = tf.fill([B, P], 1 / P) as tf.Tensor2D; // [B, P]
        context = encoded.mean; // [B, D]
      }
      // Phase 3: the gate on the context.
      if (this.gateSize > 0) {
        const offset = this.attention ? A : 0;
        const beta = tf.sigmoid(offset > 0 ? hp!.slice([0, offset], [B, this.gateSize]) : hp!); // [B, 1] or [B, D]
        context = context.mul(beta) as tf.Tensor2D; // [B, D]
      }
      // Phase 4: the LSTM, four gates from one matMul.
      const gates = wordGates.add(tf.concat([context, state.h], 1).matMul(this.recurrentKernel as tf.Tensor2D)) as tf.Tensor2D; // [B, 4H]
      const { h, c } = lstmCell(gates, state.c, options.training ?? false); // [B, H] x 2 (lstm-cell.ts)
      // Phase 5: the output layer (decoding only; teacher forcing batches it over all steps).
      const result: StepResult = { state: { h, c }, alpha };
      if (options.logits ?? true) result.logits = this.output(h); // [B, V]
      return result;
    });
  }

  /**
   * Teacher forcing's whole recurrence as one operation with a hand-written backward pass
   * (fused-recurrence.ts; the same numbers as calling `step` per time step): word gates
   * [N, 4H] of the batch's real positions, its distinct images encoded [U, …] with the image
   * of every caption `imageOf` [B], the initial state [B, H] (rows sorted by length), the
   * steps' row counts -> the stacked hidden states [N, H] and alphaSum
   * [B, P]. Null where it does not apply (mean context, or not the wasm backend with its
   * speedups on): the caller steps with `step`.
   */
  fusedRecurrence(wordGates: tf.Tensor2D, encoded: EncodedImages, imageOf: Int32Array, state: DecoderState, stepSizes: readonly number[], featureGradients: boolean): { hidden: tf.Tensor2D; alphaSum: tf.Tensor2D } | null {
    if (!this.attention || !this.hiddenProj || !this.hiddenBias || !wasmSpeedupsEnabled() || tf.getBackend() !== 'wasm') return null;
    const [, P, D] = encoded.features.shape;
    const { hiddenSize: H, attentionSize: A, attentionActivation: activation, gate } = this.options;
    return fusedRecurrence(
      { P, A, D, G: this.gateSize, H, activation, gate },
      { recurrent: this.recurrentKernel, hidden: this.hiddenProj, hiddenBias: this.hiddenBias, score: this.attention.score },
      { wordGates, projected: encoded.projected!, features: encoded.features, h0: state.h, c0: state.c },
      imageOf,
      stepSizes,
      featureGradients,
    );
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
  }
}
