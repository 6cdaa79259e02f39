/**
 * Writes a BERT encoder as an ONNX graph that ONNX Runtime (and so transformers.js) runs:
 * opset 17 with its built-in LayerNormalization, IR version 8, dynamic batch and sequence
 * axes, int64 inputs `input_ids`, `attention_mask`, `token_type_ids`, and the outputs
 * `last_hidden_state` [B, S, H] and `hidden_state_0` (embeddings) … `hidden_state_L`
 * (transformers.js returns only what a graph outputs, so every layer is its own output).
 *
 *   const bytes = exportBertOnnx(config, model.weightValues());   // Uint8Array, model.onnx
 *
 * The graph is the one model.ts computes, node for node (dimensions as there):
 *   Gather(word, ids) + Gather(position, Range(0, S)) + Gather(type, segments) -> LayerNormalization
 *   mask = Unsqueeze((1 - Cast(attention_mask)) * -10000, [1, 2])                      [B, 1, 1, S]
 *   per layer: Q, K, V = MatMul + Add -> Reshape [B, S, N, D] -> Transpose; Softmax(QK^T/sqrt(D) + mask) V
 *              -> Transpose, Reshape [B, S, H] -> MatMul + Add + residual -> LayerNormalization
 *              -> MatMul + Add -> GELU (Erf) -> MatMul + Add + residual -> LayerNormalization
 */
import { onnx } from 'onnx-proto';

import type { BertConfig } from './config';
import { bertWeightShapes, EMBEDDING_WEIGHTS, layerWeightNames, MASKED_SCORE } from './model';

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
export const ONNX_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;
export const LAST_HIDDEN_STATE = 'last_hidden_state';

/** The name of layer l's output (0: the embeddings). */
export function hiddenStateName(l: number): string {
  return `hidden_state_${l}`;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** A small helper that names every intermediate value uniquely. */
class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private counter = 0;

  node(opType: string, inputs: string[], attributes: onnx.IAttributeProto[] = [], output?: string): string {
    const out = output ?? `${opType.toLowerCase()}_${this.counter++}`;
    this.nodes.push({ opType, input: inputs, output: [out], name: `${opType}_${this.nodes.length}`, attribute: attributes });
    return out;
  }

  floats(name: string, dims: number[], values: Float32Array): string {
    const bytes = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: bytes });
    return name;
  }

  int64s(name: string, dims: number[], values: number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims, dataType: INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }
}

function intAttr(name: string, i: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}
function floatAttr(name: string, f: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
}
function intsAttr(name: string, ints: number[]): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints };
}

function valueInfo(name: string, elemType: number, dims: (string | number)[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

/**
 * The ONNX bytes of a BERT encoder with these weights (names and [in, out] kernels as
 * model.ts); the MLM head is not exported.
 */
export function exportBertOnnx(config: BertConfig, weights: ReadonlyMap<string, Float32Array>, docString = 'BERT encoder written by captioning-lab'): Uint8Array {
  const { hiddenSize: H, numHeads: N, numLayers: L, layerNormEps: eps } = config;
  const D = H / N;
  const g = new GraphBuilder();
  const shapes = new Map(bertWeightShapes(config));
  const weight = (name: string): string => {
    const values = weights.get(name);
    if (!values) throw new Error(`exportBertOnnx: no weight ${name}`);
    const dims = shapes.get(name);
    if (!dims) throw new Error(`exportBertOnnx: ${name} is not a BERT weight`);
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`exportBertOnnx: weight ${name} has ${values.length} values, expected [${dims}] = ${size}`);
    if (!g.initializers.some((t) => t.name === name)) g.floats(name, dims, values);
    return name;
  };
  const layerNorm = (x: string, gamma: string, beta: string, output?: string) =>
    g.node('LayerNormalization', [x, weight(gamma), weight(beta)], [intAttr('axis', -1), floatAttr('epsilon', eps)], output);
  const dense = (x: string, kernel: string, bias: string) => g.node('Add', [g.node('MatMul', [x, weight(kernel)]), weight(bias)]);

  // Constants.
  const one = g.floats('const_one', [], Float32Array.of(1));
  const half = g.floats('const_half', [], Float32Array.of(0.5));
  const maskedScore = g.floats('const_masked_score', [], Float32Array.of(MASKED_SCORE));
  const invSqrtD = g.floats('const_inv_sqrt_head', [], Float32Array.of(1 / Math.sqrt(D)));
  const invSqrt2 = g.floats('const_inv_sqrt2', [], Float32Array.of(Math.SQRT1_2));
  const zero64 = g.int64s('const_zero_i64', [], [0]);
  const one64 = g.int64s('const_one_i64', [], [1]);
  const headsShape = g.int64s('const_heads_shape', [4], [0, 0, N, D]);
  const mergedShape = g.int64s('const_merged_shape', [3], [0, 0, H]);
  const maskAxes = g.int64s('const_mask_axes', [2], [1, 2]);

  // Embeddings: word + position + type, then LayerNorm.                                  [B, S, H]
  const seqLen = g.node('Gather', [g.node('Shape', ['input_ids']), one64], [intAttr('axis', 0)]); // scalar S
  const positions = g.node('Range', [zero64, seqLen, one64]); // [S]
  const words = g.node('Gather', [weight(EMBEDDING_WEIGHTS.word), 'input_ids'], [intAttr('axis', 0)]); // [B, S, H]
  const pos = g.node('Gather', [weight(EMBEDDING_WEIGHTS.position), positions], [intAttr('axis', 0)]); // [S, H]
  const types = g.node('Gather', [weight(EMBEDDING_WEIGHTS.type), 'token_type_ids'], [intAttr('axis', 0)]); // [B, S, H]
  const summed = g.node('Add', [g.node('Add', [words, pos]), types]); // [B, S, H]
  let x = layerNorm(summed, EMBEDDING_WEIGHTS.norm, EMBEDDING_WEIGHTS.normBias, hiddenStateName(0)); // [B, S, H]

  // Additive attention mask.                                                             [B, 1, 1, S]
  const maskFloat = g.node('Cast', ['attention_mask'], [intAttr('to', FLOAT)]); // [B, S]
  const mask = g.node('Unsqueeze', [g.node('Mul', [g.node('Sub', [one, maskFloat]), maskedScore]), maskAxes]); // [B, 1, 1, S]

  for (let l = 0; l < L; l++) {
    const n = layerWeightNames(l);
    const heads = (t: string, perm: number[]) => g.node('Transpose', [g.node('Reshape', [t, headsShape])], [intsAttr('perm', perm)]);
    const q = heads(dense(x, n.query, n.queryBias), [0, 2, 1, 3]); // [B, N, S, D]
    const kT = heads(dense(x, n.key, n.keyBias), [0, 2, 3, 1]); // [B, N, D, S]
    const v = heads(dense(x, n.value, n.valueBias), [0, 2, 1, 3]); // [B, N, S, D]
    const scores = g.node('Add', [g.node('Mul', [g.node('MatMul', [q, kT]), invSqrtD]), mask]); // [B, N, S, S]
    const probs = g.node('Softmax', [scores], [intAttr('axis', -1)]); // [B, N, S, S]
    const context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, v])], [intsAttr('perm', [0, 2, 1, 3])]), mergedShape]); // [B, S, H]
    const attended = layerNorm(g.node('Add', [dense(context, n.attentionOut, n.attentionOutBias), x]), n.attentionNorm, n.attentionNormBias); // [B, S, H]
    const inner = dense(attended, n.intermediate, n.intermediateBias); // [B, S, I]
    const erf = g.node('Erf', [g.node('Mul', [inner, invSqrt2])]); // [B, S, I]
    const gelu = g.node('Mul', [g.node('Mul', [inner, g.node('Add', [erf, one])]), half]); // [B, S, I]
    x = layerNorm(g.node('Add', [dense(gelu, n.output, n.outputBias), attended]), n.outputNorm, n.outputNormBias, hiddenStateName(l + 1)); // [B, S, H]
  }
  g.node('Identity', [x], [], LAST_HIDDEN_STATE);

  const outputs = [LAST_HIDDEN_STATE, ...Array.from({ length: L + 1 }, (_, l) => hiddenStateName(l))];
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'captioning-lab',
    producerVersion: '1',
    docString,
    graph: {
      name: 'bert',
      node: g.nodes,
      initializer: g.initializers,
      input: ONNX_INPUTS.map((name) => valueInfo(name, INT64, ['batch_size', 'sequence_length'])),
      output: outputs.map((name) => valueInfo(name, FLOAT, ['batch_size', 'sequence_length', H])),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Reads the piece-embedding table out of an ONNX BERT (ours or a hub export): the float
 * initializer shaped [vocabSize, hiddenSize] (preferring the name
 * `embeddings.word_embeddings.weight`). Raw or float data inside the file only; an external
 * data file or a quantised table is an error that says so.
 */
export function readWordEmbeddings(bytes: Uint8Array, vocabSize: number, hiddenSize: number, source: string): Float32Array {
  const model = onnx.ModelProto.decode(bytes);
  const candidates = (model.graph?.initializer ?? []).filter((t) => {
    const dims = t.dims ?? [];
    return dims.length === 2 && Number(dims[0]) === vocabSize && Number(dims[1]) === hiddenSize;
  });
  const table = candidates.find((t) => (t.name ?? '').endsWith('word_embeddings.weight')) ?? candidates[0];
  if (!table) throw new Error(`${source}: no initializer shaped [${vocabSize}, ${hiddenSize}] (the piece-embedding table) in the ONNX graph`);
  if (table.dataType !== FLOAT) {
    throw new Error(`${source}: the piece-embedding table ${table.name} has ONNX data type ${table.dataType}, not float32 (a quantised model?); use the fp32 model.onnx`);
  }
  if (table.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) throw new Error(`${source}: the piece-embedding table ${table.name} is stored in an external data file, which is not supported`);
  const n = vocabSize * hiddenSize;
  if (table.rawData && table.rawData.length > 0) {
    if (table.rawData.length !== n * 4) throw new Error(`${source}: ${table.name} holds ${table.rawData.length} bytes, expected ${n * 4}`);
    const copy = new Uint8Array(table.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, n);
  }
  if (table.floatData && table.floatData.length === n) return Float32Array.from(table.floatData);
  throw new Error(`${source}: ${table.name} holds no data`);
}
