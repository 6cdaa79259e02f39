/**
 * The shape of a BERT: what `config.json` says and what the tfjs model and the ONNX export
 * are built from. Names follow Hugging Face's `BertConfig` in camelCase; `toHfConfig` and
 * `fromHfConfig` translate.
 *
 * Dimensions, named once for the whole module: B sequences, S word pieces per sequence
 * (`[CLS]` … `[SEP]` included), H hidden size, N attention heads, D = H / N per head,
 * I intermediate size, L layers, V word-piece vocabulary, P positions.
 */

export interface BertConfig {
  /** Word pieces V. */
  vocabSize: number;
  /** Hidden size H (the width of every vector the embedder returns). */
  hiddenSize: number;
  /** Transformer layers L. */
  numLayers: number;
  /** Attention heads N; H must be a multiple of N. */
  numHeads: number;
  /** Feed-forward size I (BERT: 4 H). */
  intermediateSize: number;
  /** Positions P: the longest input in pieces, `[CLS]` and `[SEP]` included. */
  maxPositions: number;
  /** Segment (token type) ids: 2, as BERT. */
  typeVocabSize: number;
  /** LayerNorm epsilon (BERT: 1e-12). */
  layerNormEps: number;
}

/**
 * The project's quick offline BERT: 2 layers, hidden 64, 2 heads, feed-forward 256, 64
 * positions; about 0.1 M weights besides the piece table. Pretrained on the quick scenes'
 * 4,000 training captions in about 3 minutes on 2 cores (wasm backend, 10 epochs; see
 * pretrain-mlm.ts). Hidden 128 with 4 heads was measured too: about 2x the time per epoch
 * (41 s against 17-22 s), and in equal time a worse model (validation masked-LM accuracy
 * 0.34 after 4 epochs, against 0.46 for hidden 64 after 8).
 */
export const BERT_QUICK_SHAPE: Readonly<Omit<BertConfig, 'vocabSize'>> = Object.freeze({
  hiddenSize: 64,
  numLayers: 2,
  numHeads: 2,
  intermediateSize: 256,
  maxPositions: 64,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
});

/** Checks a config, naming the bad field and value. */
export function checkBertConfig(config: BertConfig): BertConfig {
  const whole = ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositions', 'typeVocabSize'] as const;
  for (const key of whole) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 1) throw new Error(`BERT config: ${key} must be a whole number >= 1, got ${value}`);
  }
  if (config.hiddenSize % config.numHeads !== 0) {
    throw new Error(`BERT config: hiddenSize ${config.hiddenSize} must be a multiple of numHeads ${config.numHeads}`);
  }
  if (!(config.layerNormEps > 0)) throw new Error(`BERT config: layerNormEps must be > 0, got ${config.layerNormEps}`);
  return config;
}

/** The `config.json` transformers.js reads (`model_type: "bert"`), plus our own notes under `captioning_lab`. */
export function toHfConfig(config: BertConfig, padTokenId: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['BertModel'],
    model_type: 'bert',
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    intermediate_size: config.intermediateSize,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: config.maxPositions,
    type_vocab_size: config.typeVocabSize,
    initializer_range: 0.02,
    layer_norm_eps: config.layerNormEps,
    pad_token_id: padTokenId,
    position_embedding_type: 'absolute',
    ...(Object.keys(extra).length > 0 ? { captioning_lab: extra } : {}),
  };
}

/** Reads the shape out of a Hugging Face `config.json` (any BERT-family checkpoint). */
export function fromHfConfig(json: Record<string, unknown>, source: string): BertConfig {
  const num = (key: string, fallback?: number): number => {
    const value = json[key];
    if (typeof value === 'number') return value;
    if (fallback !== undefined) return fallback;
    throw new Error(`${source}: config.json has no numeric "${key}"`);
  };
  return {
    vocabSize: num('vocab_size'),
    hiddenSize: num('hidden_size', num('dim', NaN)),
    numLayers: num('num_hidden_layers', num('n_layers', NaN)),
    numHeads: num('num_attention_heads', num('n_heads', NaN)),
    intermediateSize: num('intermediate_size', num('hidden_dim', NaN)),
    maxPositions: num('max_position_embeddings', 512),
    typeVocabSize: num('type_vocab_size', 2),
    layerNormEps: num('layer_norm_eps', 1e-12),
  };
}
