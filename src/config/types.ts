/**
 * The experiment config's shape: every section and key with what it means and what the
 * reference code (sgrvinod's tutorial, which the report ran) uses, and the closed sets of
 * values a key may take. The values themselves are in profiles.ts; the checks in schema.ts.
 *
 *   const hidden: CaptionerConfig['decoder']['hidden'] = 256;
 *   CLIP_MODES;   // ['value', 'norm', 'none']
 *
 * The option lists live here, at the top of the data flow, so that every stage below
 * (data, encoders, embeddings, model, train) imports them from the config and the config
 * imports nothing from those stages.
 */

// ---------------------------------------------------------------- option lists

/** Per-channel mean and standard deviation, applied to pixel values scaled to [0, 1]. */
export interface Normalisation {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}
/** Named normalisations (src/data/images.ts holds their values). */
export const NORMALISATION_NAMES = ['imagenet', 'minus-one-to-one', 'zero-to-one'] as const;
export type NormalisationName = (typeof NORMALISATION_NAMES)[number];

/** Karpathy `restval` images join train (reference), val, or are dropped. */
export type RestvalPolicy = 'train' | 'val' | 'drop';
export const RESTVAL_POLICIES: readonly RestvalPolicy[] = ['train', 'val', 'drop'];

/** Channel order the encoder expects (Keras ResNet: BGR). */
export type ChannelOrder = 'rgb' | 'bgr';
export const CHANNEL_ORDERS: readonly ChannelOrder[] = ['rgb', 'bgr'];

/** How a word's WordPiece vectors combine into one. */
export const ALIGNMENTS = ['sum', 'mean', 'first'] as const;
export type Alignment = (typeof ALIGNMENTS)[number];

/** What a BERT vector of word t sees: the whole caption, the prefix up to t, or the word alone. */
export const BERT_MODES = ['bidirectional', 'causal', 'static'] as const;
export type BertMode = (typeof BERT_MODES)[number];

/** The attention scores' nonlinearity. */
export type AttentionActivation = 'tanh' | 'relu';
export const ATTENTION_ACTIVATIONS: readonly AttentionActivation[] = ['tanh', 'relu'];

/** What the decoder reads from the image at each step. */
export type ContextMode = 'soft-attention' | 'mean';
export const CONTEXT_MODES: readonly ContextMode[] = ['soft-attention', 'mean'];

/** The gate on the context vector. */
export type GateMode = 'scalar' | 'vector' | 'none';
export const GATE_MODES: readonly GateMode[] = ['scalar', 'vector', 'none'];

/** How the doubly stochastic attention term reduces over regions. */
export type AttentionPenaltyReduction = 'sum' | 'mean';
export const ATTENTION_PENALTY_REDUCTIONS: readonly AttentionPenaltyReduction[] = ['sum', 'mean'];

/** Gradient clipping. */
export type ClipMode = 'value' | 'norm' | 'none';
export const CLIP_MODES: readonly ClipMode[] = ['value', 'norm', 'none'];

// ---------------------------------------------------------------- the config

export interface CaptionerConfig {
  /** Seed of every random choice: initial weights, batch order, dropout masks. */
  seed: number;
  data: DataConfig;
  encoder: EncoderConfig;
  words: WordsConfig;
  decoder: DecoderConfig;
  train: TrainConfig;
  /** Decoding for the final (test) evaluation. */
  decode: DecodeConfig;
}

export interface DataConfig {
  /** 'scenes': the generated dataset (`scenes` below, written to `dir`); 'karpathy': a Karpathy split file. */
  source: 'scenes' | 'karpathy';
  /** Scenes: the folder to generate into. Karpathy: the split file (dataset_coco.json). */
  dir: string;
  /** Karpathy: the folder image paths are relative to (null: the file's folder). */
  imagesRoot: string | null;
  scenes: { images: number; size: number; seed: number; occlusion: number; captionsPerImage: number };
  /** Karpathy `restval` images join train (reference), val, or are dropped. */
  restval: RestvalPolicy;
  /** Vocabulary: words seen at least this often in train (reference: count > 5, i.e. 6; the report's text says 5). */
  minCount: number;
  /** Longest caption in words; longer ones are skipped (reference: 50). */
  maxLength: number;
}

export interface EncoderConfig {
  /** 'small-cnn': trained from scratch with the decoder; 'pretrained': a frozen backbone, features cached. */
  kind: 'small-cnn' | 'pretrained';
  /** Side of the square input in pixels (images are resized to it). */
  inputSize: number;
  normalisation: NormalisationName | Normalisation;
  channelOrder: ChannelOrder;
  resize: 'centre-crop' | 'stretch';
  cnn: { channels: number[]; strides: number[]; kernel: number };
  pretrained: {
    /** 'nsfwjs:mobilenet_v2' (offline, from the nsfwjs package), a local folder with model.json, or an http(s) URL. */
    model: string;
    format: 'layers' | 'graph';
    /** The feature layer (layers model) or node (graph model), e.g. 'out_relu' or 'conv5_block3_out'. */
    layer: string;
    /** Adaptive average pooling of the grid to grid x grid (reference: 14 for ResNet-101); null keeps the layer's grid. */
    grid: number | null;
  };
  /** The on-disk feature cache of frozen encoders. */
  cache: { dir: string; dtype: 'float16' | 'float32'; batchSize: number };
}

export interface WordsConfig {
  /** 'learned': a word table trained with the decoder; 'bert': frozen BERT vectors (src/embeddings/bert). */
  kind: 'learned' | 'bert';
  /**
   * Learned: the table's vector size E (reference: 512). BERT: the projection's output size
   * when `bert.projection` is on; without it the decoder reads BERT's own width.
   */
  dim: number;
  bert: BertWordsConfig;
}

/** The BERT variant's settings (used when `words.kind` is 'bert'). */
export interface BertWordsConfig {
  /**
   * 'pretrain': the project's small BERT, pretrained by masked LM on this dataset's training
   * captions (offline; a tracked, cached run). Else a hub id (`Xenova/bert-base-uncased`,
   * which needs CAPTIONING_ALLOW_REMOTE_MODELS=1 the first time) or a local folder.
   */
  model: string;
  /** 'bidirectional' (the report: BERT over the whole ground-truth caption), 'causal' (prefix only), 'static' (no context). */
  mode: BertMode;
  /** Hidden state read: null for the last layer (the report), k for `hidden_state_k` (0 = embeddings). */
  layer: number | null;
  /** How a word's WordPiece vectors combine (the report's code ancestry: sum). */
  alignment: Alignment;
  /** Token type id of every piece (the report: 1; BERT's convention: 0). */
  segmentId: number;
  /** A trained linear layer from BERT's width to `words.dim` (off: the decoder reads BERT's width, as the report). */
  projection: boolean;
  /** The disk cache of BERT vectors (a subfolder per model, layer, alignment and segment). */
  cacheDir: string;
}

export interface DecoderConfig {
  /** H (reference: 512). */
  hidden: number;
  /** A (reference: 512). */
  attention: number;
  /** tanh (paper) or relu (reference code). */
  attentionActivation: AttentionActivation;
  /** 'soft-attention', or 'mean' (no attention: the mean feature, an ablation). */
  context: ContextMode;
  /** Context gate: 'scalar' beta (paper), 'vector' (reference code), 'none'. */
  gate: GateMode;
  /** Dropout before the output layer (reference: 0.5). */
  dropout: number;
  /** Uniform init range of the embedding and output layer (reference: 0.1). */
  initRange: number;
}

export interface TrainConfig {
  /** Most epochs (reference: 120, with early stopping). */
  epochs: number;
  /** Captions per batch (reference: 32). */
  batchSize: number;
  /** When set: batches of whole images, all captions of this many images (each image encoded once per batch); batchSize is then unused. */
  imagesPerBatch: number | null;
  /** Adam learning rate of the decoder (reference: 4e-4). */
  learningRate: number;
  /** Of a trainable encoder; null: the decoder's (reference fine-tuning: 1e-4). */
  encoderLearningRate: number | null;
  /** Element-wise clamp at 5 (reference) or global norm. */
  clip: { mode: ClipMode; value: number };
  /** Weight of the doubly stochastic attention term (reference: 1; quick: 0, which trained better here: src/model/README.md). */
  alphaC: number;
  /** 'sum' over regions (paper eq. 14) or 'mean' (reference code). */
  attentionPenalty: AttentionPenaltyReduction;
  /** Batches of captions of similar length (less padding; reference: no). */
  bucketByLength: boolean;
  /** lr x factor after every `patience` epochs without improvement (reference: 0.8 after 8). */
  lrDecay: { factor: number; patience: number };
  /** Stop after this many epochs without improvement of the validation metric (reference: 20). */
  earlyStopping: { patience: number };
  /** The per-epoch validation: free-running decoding scored with BLEU-4 (the early-stopping metric). */
  validation: { beam: number; maxLength: number; images: number | null };
  /**
   * Data-parallel workers of one run (src/train/data-parallel.ts): each trains on 1/W of
   * every batch with its own backend, the gradients are summed and every worker applies the
   * same update. 'auto': the cores left free (`trainRuns` shares them among its runs), 1 on a
   * GPU. How a run is executed, not what it is: recorded in environment.json, not part of the
   * run's identity (`identityConfig`), since 1 and W workers train the same numbers.
   */
  workers: number | 'auto';
}

export interface DecodeConfig {
  /** Beam size of the test evaluation (reference results: 1, 3, 5). */
  beam: number;
  /** Most words per generated caption. */
  maxLength: number;
  /** Final hypothesis by logP / length^lengthPenalty (0: none, as the reference). */
  lengthPenalty: number;
}

/** A partial config: any key at any depth may be left out. */
export type ConfigOverride = { [K in keyof CaptionerConfig]?: CaptionerConfig[K] extends object ? { [L in keyof CaptionerConfig[K]]?: CaptionerConfig[K][L] extends object ? Partial<CaptionerConfig[K][L]> : CaptionerConfig[K][L] } : CaptionerConfig[K] };
