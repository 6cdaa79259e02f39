/**
 * A BERT encoder in tfjs, with the masked-LM head, for pretraining the project's own BERT.
 * The same weights are written as ONNX by onnx-export.ts and then read back through
 * transformers.js; a test checks that both give the same hidden states.
 *
 * Dimensions (config.ts): B sequences, S pieces, H hidden, N heads, D = H / N, I
 * intermediate, L layers, V pieces in the vocabulary, P positions, M masked positions.
 *
 *   e   = LayerNorm(word[ids] + position[0..S) + type[segments])          hidden_state_0
 *   per layer:  a = LayerNorm(x + Wo softmax(Q K^T / sqrt(D) + mask) V)
 *               x = LayerNorm(a + W2 gelu(W1 a))                           hidden_state_l
 *   MLM head:   logits = LayerNorm(gelu(Wt x)) word^T + b                  (tied to the piece table)
 *
 * Weights use Hugging Face's names (`encoder.layer.0.attention.self.query.weight`, …), but
 * every kernel is stored [in, out] for `x @ W`; PyTorch's `nn.Linear` stores [out, in].
 */
import * as tf from '@tensorflow/tfjs';

import { createRng, type Seed } from '../../common/random';
import { checkBertConfig, type BertConfig } from './config';

/** The additive attention mask of padded positions (as Hugging Face BERT before 4.x's finfo.min). */
export const MASKED_SCORE = -10000;

/** The names of one layer's weights. */
export function layerWeightNames(l: number): Record<string, string> {
  const p = `encoder.layer.${l}`;
  return {
    query: `${p}.attention.self.query.weight`,
    queryBias: `${p}.attention.self.query.bias`,
    key: `${p}.attention.self.key.weight`,
    keyBias: `${p}.attention.self.key.bias`,
    value: `${p}.attention.self.value.weight`,
    valueBias: `${p}.attention.self.value.bias`,
    attentionOut: `${p}.attention.output.dense.weight`,
    attentionOutBias: `${p}.attention.output.dense.bias`,
    attentionNorm: `${p}.attention.output.LayerNorm.weight`,
    attentionNormBias: `${p}.attention.output.LayerNorm.bias`,
    intermediate: `${p}.intermediate.dense.weight`,
    intermediateBias: `${p}.intermediate.dense.bias`,
    output: `${p}.output.dense.weight`,
    outputBias: `${p}.output.dense.bias`,
    outputNorm: `${p}.output.LayerNorm.weight`,
    outputNormBias: `${p}.output.LayerNorm.bias`,
  };
}

export const EMBEDDING_WEIGHTS = {
  word: 'embeddings.word_embeddings.weight',
  position: 'embeddings.position_embeddings.weight',
  type: 'embeddings.token_type_embeddings.weight',
  norm: 'embeddings.LayerNorm.weight',
  normBias: 'embeddings.LayerNorm.bias',
} as const;

export const MLM_WEIGHTS = {
  transform: 'cls.predictions.transform.dense.weight',
  transformBias: 'cls.predictions.transform.dense.bias',
  norm: 'cls.predictions.transform.LayerNorm.weight',
  normBias: 'cls.predictions.transform.LayerNorm.bias',
  bias: 'cls.predictions.bias',
} as const;

/** Every weight's name and shape, encoder first, then the MLM head. */
export function bertWeightShapes(config: BertConfig): [string, number[]][] {
  const { vocabSize: V, hiddenSize: H, intermediateSize: I, maxPositions: P, typeVocabSize: T } = config;
  const shapes: [string, number[]][] = [
    [EMBEDDING_WEIGHTS.word, [V, H]],
    [EMBEDDING_WEIGHTS.position, [P, H]],
    [EMBEDDING_WEIGHTS.type, [T, H]],
    [EMBEDDING_WEIGHTS.norm, [H]],
    [EMBEDDING_WEIGHTS.normBias, [H]],
  ];
  for (let l = 0; l < config.numLayers; l++) {
    const n = layerWeightNames(l);
    shapes.push(
      [n.query, [H, H]], [n.queryBias, [H]], [n.key, [H, H]], [n.keyBias, [H]], [n.value, [H, H]], [n.valueBias, [H]],
      [n.attentionOut, [H, H]], [n.attentionOutBias, [H]], [n.attentionNorm, [H]], [n.attentionNormBias, [H]],
      [n.intermediate, [H, I]], [n.intermediateBias, [I]], [n.output, [I, H]], [n.outputBias, [H]], [n.outputNorm, [H]], [n.outputNormBias, [H]],
    );
  }
  shapes.push([MLM_WEIGHTS.transform, [H, H]], [MLM_WEIGHTS.transformBias, [H]], [MLM_WEIGHTS.norm, [H]], [MLM_WEIGHTS.normBias, [H]], [MLM_WEIGHTS.bias, [V]]);
  return shapes;
}

/** BERT's initialisation: normal(0, 0.02) truncated at 2 sd for matrices, zeros for biases, ones for LayerNorm scales. */
function initialValues(name: string, shape: number[], seed: Seed): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  if (name.endsWith('LayerNorm.weight')) return values.fill(1);
  if (shape.length === 1) return values;
  const rng = createRng(`${String(seed)}/${name}`);
  for (let i = 0; i < n; i++) {
    let z: number;
    do {
      const u = 1 - rng.next();
      z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
    } while (Math.abs(z) > 2);
    values[i] = 0.02 * z;
  }
  return values;
}

let variableCounter = 0;

/** Inputs of one forward pass. */
export interface BertInputs {
  inputIds: tf.Tensor2D; // [B, S] int32
  attentionMask: tf.Tensor2D; // [B, S] 1 for real pieces, 0 for padding
  tokenTypeIds: tf.Tensor2D; // [B, S] int32
}

export interface ForwardOptions {
  /** Dropout rate on embeddings, attention probabilities and sub-layer outputs (training only; default 0). */
  dropout?: number;
  /** Seed of the dropout masks of this pass. */
  seed?: number;
}

export class BertModel {
  readonly config: BertConfig;
  /** Every weight by its Hugging Face name. */
  readonly weights: ReadonlyMap<string, tf.Variable>;

  /** A fresh model with BERT's initialisation, seeded. */
  constructor(config: BertConfig, seed: Seed, values?: ReadonlyMap<string, Float32Array>) {
    this.config = checkBertConfig(config);
    const weights = new Map<string, tf.Variable>();
    for (const [name, shape] of bertWeightShapes(config)) {
      const given = values?.get(name);
      const size = shape.reduce((a, b) => a * b, 1);
      if (given && given.length !== size) throw new Error(`BertModel: weight ${name} has ${given.length} values, its shape [${shape}] needs ${size}`);
      const data = given ?? initialValues(name, shape, seed);
      weights.set(name, tf.tidy(() => tf.variable(tf.tensor(data, shape, 'float32'), true, `bert/${name}_${++variableCounter}`)));
    }
    this.weights = weights;
  }

  private w(name: string): tf.Variable {
    const v = this.weights.get(name);
    if (!v) throw new Error(`BertModel: no weight ${name}`);
    return v;
  }

  /** The weights of the encoder (what ONNX exports): every weight but the MLM head's. */
  encoderWeightNames(): string[] {
    return [...this.weights.keys()].filter((n) => !n.startsWith('cls.'));
  }

  /** Host copies of every weight. */
  weightValues(): Map<string, Float32Array> {
    return new Map([...this.weights].map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
  }

  /**
   * The hidden states: [embeddings, layer 1, …, layer L], each [B, S, H]. The caller
   * owns them (call inside `tf.tidy`).
   */
  forward(inputs: BertInputs, options: ForwardOptions = {}): tf.Tensor3D[] {
    const { hiddenSize: H, numHeads: N, numLayers: L, layerNormEps: eps, maxPositions } = this.config;
    const D = H / N;
    const [B, S] = inputs.inputIds.shape;
    if (S > maxPositions) throw new Error(`BertModel.forward: ${S} pieces per sequence, the position table has ${maxPositions}`);
    const rate = options.dropout ?? 0;
    let dropSeed = (options.seed ?? 0) * 1000;
    const drop = <T extends tf.Tensor>(x: T): T => (rate > 0 ? (tf.dropout(x, rate, undefined, dropSeed++) as T) : x);
    const norm = (x: tf.Tensor2D, gamma: string, beta: string): tf.Tensor2D => layerNorm(x, this.w(gamma), this.w(beta), eps);
    const dense = (x: tf.Tensor2D, kernel: string, bias: string): tf.Tensor2D => tf.add(tf.matMul(x, this.w(kernel)), this.w(bias)) as tf.Tensor2D;

    // Embeddings.
    const ids = inputs.inputIds.reshape([B * S]); // [B*S]
    const types = inputs.tokenTypeIds.reshape([B * S]); // [B*S]
    const positions = this.w(EMBEDDING_WEIGHTS.position).slice([0, 0], [S, H]); // [S, H]
    const summed = tf
      .gather(this.w(EMBEDDING_WEIGHTS.word), ids) // [B*S, H]
      .add(tf.gather(this.w(EMBEDDING_WEIGHTS.type), types)) // [B*S, H]
      .reshape([B, S, H])
      .add(positions) // [B, S, H]
      .reshape([B * S, H]) as tf.Tensor2D;
    let x = drop(norm(summed, EMBEDDING_WEIGHTS.norm, EMBEDDING_WEIGHTS.normBias)); // [B*S, H]
    const states: tf.Tensor3D[] = [x.reshape([B, S, H])];

    // Additive mask: 0 where attended, MASKED_SCORE on padding.
    const mask = tf.sub(1, inputs.attentionMask.toFloat()).mul(MASKED_SCORE).reshape([B, 1, 1, S]); // [B, 1, 1, S]
    const heads = (t: tf.Tensor2D) => t.reshape([B, S, N, D]).transpose([0, 2, 1, 3]).reshape([B * N, S, D]) as tf.Tensor3D; // [B*N, S, D]

    for (let l = 0; l < L; l++) {
      const n = layerWeightNames(l);
      const q = heads(dense(x, n.query, n.queryBias)); // [B*N, S, D]
      const k = heads(dense(x, n.key, n.keyBias)); // [B*N, S, D]
      const v = heads(dense(x, n.value, n.valueBias)); // [B*N, S, D]
      const scores = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(D)).reshape([B, N, S, S]).add(mask); // [B, N, S, S]
      const probs = drop(tf.softmax(scores, -1)).reshape([B * N, S, S]) as tf.Tensor3D; // [B*N, S, S]
      const context = tf.matMul(probs, v).reshape([B, N, S, D]).transpose([0, 2, 1, 3]).reshape([B * S, H]) as tf.Tensor2D; // [B*S, H]
      const attended = norm(drop(dense(context, n.attentionOut, n.attentionOutBias)).add(x), n.attentionNorm, n.attentionNormBias); // [B*S, H]
      const inner = gelu(dense(attended, n.intermediate, n.intermediateBias)); // [B*S, I]
      x = norm(drop(dense(inner, n.output, n.outputBias)).add(attended), n.outputNorm, n.outputNormBias); // [B*S, H]
      states.push(x.reshape([B, S, H]));
    }
    return states;
  }

  /** Masked-LM logits of hidden vectors [M, H] -> [M, V] (decoder tied to the piece table). */
  mlmLogits(hidden: tf.Tensor2D): tf.Tensor2D {
    const t = gelu(tf.add(tf.matMul(hidden, this.w(MLM_WEIGHTS.transform)), this.w(MLM_WEIGHTS.transformBias)) as tf.Tensor2D); // [M, H]
    const normed = layerNorm(t, this.w(MLM_WEIGHTS.norm), this.w(MLM_WEIGHTS.normBias), this.config.layerNormEps); // [M, H]
    return tf.matMul(normed, this.w(EMBEDDING_WEIGHTS.word), false, true).add(this.w(MLM_WEIGHTS.bias)); // [M, V]
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
  }
}

/** LayerNorm over the last axis: [R, C] -> [R, C]. */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D {
  const mean = x.mean(-1, true); // [R, 1]
  const centred = x.sub(mean); // [R, C]
  const variance = centred.square().mean(-1, true); // [R, 1]
  return centred.mul(tf.rsqrt(variance.add(eps))).mul(gamma).add(beta); // [R, C]
}

/** BERT's exact GELU: x Phi(x) = x (1 + erf(x / sqrt 2)) / 2. */
export function gelu<T extends tf.Tensor>(x: T): T {
  return x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5) as T;
}
