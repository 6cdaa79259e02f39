/**
 * The captioner's experiment config: every setting with its default in one place, two
 * named profiles, and validation that names the offending key.
 *
 *   const config = resolveConfig('quick');                                   // the defaults
 *   const paper = resolveConfig('paper', { train: { epochs: 10 } });         // a small override
 *   const tweaked = resolveConfig('quick', parseSettings(['decoder.hidden=128', 'decoder.gate=scalar']));
 *   const bert = resolveConfig('quick', VARIANTS.bert);                     // the report's BERT variant
 *   resolveConfig('quick', { decoder: { hiden: 1 } });   // Error: config key "decoder.hiden" is unknown; known keys: …
 *
 * Defaults are the `quick` profile (the embedded scenes data on a 2-core machine); the
 * comment on each says what the reference code (sgrvinod's tutorial, which the report ran)
 * uses, and the `paper` profile sets those values. An experiment is a small override.
 */
import { NORMALISATION_NAMES, type Normalisation, type NormalisationName } from '../data/images';
import type { RestvalPolicy } from '../data/dataset';
import { CHANNEL_ORDERS, type ChannelOrder } from '../encoders/preprocess';
import { ALIGNMENTS, type Alignment } from '../embeddings/bert/alignment';
import { BERT_MODES, type BertMode } from '../embeddings/bert/word-vectors';
import { ATTENTION_PENALTY_REDUCTIONS, type AttentionPenaltyReduction } from '../train/loss';
import { CLIP_MODES, type ClipMode } from '../train/trainer';
import { ATTENTION_ACTIVATIONS, type AttentionActivation } from './attention';
import { CONTEXT_MODES, type ContextMode, GATE_MODES, type GateMode } from './decoder';

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

/**
 * Every default, in one place: the `quick` profile, chosen by the experiments recorded in
 * src/model/README.md (scenes-quick, wasm backend, 2 cores): frozen MobileNetV2 features
 * (nsfwjs, `block_12_add` at 128 px: 8 x 8 x 96), emb 64, hidden 256, attention 128, no
 * doubly stochastic term, lr 2e-3 halved after 3 epochs without a better validation
 * BLEU-4 (beam 3), 20 epochs: about 12 minutes here.
 */
export const DEFAULT_CONFIG: CaptionerConfig = {
  seed: 1,
  data: {
    source: 'scenes',
    dir: 'results/data/scenes-quick',
    imagesRoot: null,
    scenes: { images: 1000, size: 64, seed: 1, occlusion: 0, captionsPerImage: 5 },
    restval: 'train',
    minCount: 5,
    maxLength: 50,
  },
  encoder: {
    kind: 'pretrained',
    inputSize: 128,
    normalisation: 'minus-one-to-one',
    channelOrder: 'rgb',
    resize: 'centre-crop',
    cnn: { channels: [32, 64, 128], strides: [2, 2, 2], kernel: 3 },
    pretrained: { model: 'nsfwjs:mobilenet_v2', format: 'layers', layer: 'block_12_add', grid: null },
    cache: { dir: 'results/cache/features', dtype: 'float16', batchSize: 16 },
  },
  words: {
    kind: 'learned',
    dim: 64,
    bert: { model: 'pretrain', mode: 'bidirectional', layer: null, alignment: 'sum', segmentId: 1, projection: false, cacheDir: 'results/cache/bert' },
  },
  decoder: { hidden: 256, attention: 128, attentionActivation: 'relu', context: 'soft-attention', gate: 'vector', dropout: 0.5, initRange: 0.1 },
  train: {
    epochs: 20,
    batchSize: 32,
    imagesPerBatch: null,
    learningRate: 2e-3,
    encoderLearningRate: null,
    clip: { mode: 'value', value: 5 },
    alphaC: 0,
    attentionPenalty: 'mean',
    bucketByLength: false,
    lrDecay: { factor: 0.5, patience: 3 },
    earlyStopping: { patience: 8 },
    validation: { beam: 3, maxLength: 30, images: null },
  },
  decode: { beam: 3, maxLength: 30, lengthPenalty: 0 },
};

export const PROFILE_NAMES = ['quick', 'paper'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/**
 * The named profiles as overrides of the defaults. `paper`: MS COCO (Karpathy split),
 * ResNet-101 features 14 x 14 x 2048, the reference code's hyperparameters. It needs the
 * dataset and a ResNet converted to tfjs (src/encoders/README.md says how); set
 * `data.dir`, `data.imagesRoot` and `encoder.pretrained.model` for your machine.
 */
export const PROFILES: Record<ProfileName, ConfigOverride> = {
  quick: {},
  paper: {
    data: { source: 'karpathy', dir: 'data/coco/dataset_coco.json', imagesRoot: 'data/coco', restval: 'train', minCount: 5, maxLength: 50 },
    encoder: {
      kind: 'pretrained',
      inputSize: 256,
      normalisation: 'imagenet',
      resize: 'stretch',
      pretrained: { model: 'models/resnet101-tfjs', format: 'layers', layer: 'conv5_block3_out', grid: 14 },
      cache: { dir: 'results/cache/features', dtype: 'float16', batchSize: 32 },
    },
    words: { kind: 'learned', dim: 512, bert: { model: 'Xenova/bert-base-uncased', mode: 'bidirectional', layer: null, alignment: 'sum', segmentId: 1, projection: false, cacheDir: 'results/cache/bert' } },
    decoder: { hidden: 512, attention: 512, attentionActivation: 'relu', context: 'soft-attention', gate: 'vector', dropout: 0.5, initRange: 0.1 },
    train: {
      epochs: 120,
      batchSize: 32,
      imagesPerBatch: null,
      learningRate: 4e-4,
      encoderLearningRate: null,
      clip: { mode: 'value', value: 5 },
      alphaC: 1,
      attentionPenalty: 'mean',
      bucketByLength: false,
      lrDecay: { factor: 0.8, patience: 8 },
      earlyStopping: { patience: 20 },
      validation: { beam: 1, maxLength: 50, images: null },
    },
    decode: { beam: 3, maxLength: 50, lengthPenalty: 0 },
  },
};

// ---------------------------------------------------------------- validation

type Rule =
  | { type: 'number'; integer?: boolean; min?: number; max?: number; exclusiveMin?: boolean; nullable?: boolean }
  | { type: 'string'; nullable?: boolean }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'integers'; min: number }
  | { type: 'normalisation' }
  | { type: 'object'; fields: Record<string, Rule> };

const int = (min: number, extra: { nullable?: boolean } = {}): Rule => ({ type: 'number', integer: true, min, ...extra });
const num = (min: number, max?: number, extra: { exclusiveMin?: boolean; nullable?: boolean } = {}): Rule => ({ type: 'number', min, ...(max !== undefined ? { max } : {}), ...extra });
const obj = (fields: Record<string, Rule>): Rule => ({ type: 'object', fields });
const oneOf = (values: readonly string[]): Rule => ({ type: 'enum', values });

/** The type of every key (the defaults give the values). */
const SCHEMA: Rule = obj({
  seed: int(0),
  data: obj({
    source: oneOf(['scenes', 'karpathy']),
    dir: { type: 'string' },
    imagesRoot: { type: 'string', nullable: true },
    scenes: obj({ images: int(1), size: int(32), seed: int(0), occlusion: num(0, 1), captionsPerImage: int(1) }),
    restval: oneOf(['train', 'val', 'drop']),
    minCount: int(1),
    maxLength: int(1),
  }),
  encoder: obj({
    kind: oneOf(['small-cnn', 'pretrained']),
    inputSize: int(8),
    normalisation: { type: 'normalisation' },
    channelOrder: oneOf(CHANNEL_ORDERS),
    resize: oneOf(['centre-crop', 'stretch']),
    cnn: obj({ channels: { type: 'integers', min: 1 }, strides: { type: 'integers', min: 1 }, kernel: int(1) }),
    pretrained: obj({ model: { type: 'string' }, format: oneOf(['layers', 'graph']), layer: { type: 'string' }, grid: int(1, { nullable: true }) }),
    cache: obj({ dir: { type: 'string' }, dtype: oneOf(['float16', 'float32']), batchSize: int(1) }),
  }),
  words: obj({
    kind: oneOf(['learned', 'bert']),
    dim: int(1),
    bert: obj({
      model: { type: 'string' },
      mode: oneOf(BERT_MODES),
      layer: int(0, { nullable: true }),
      alignment: oneOf(ALIGNMENTS),
      segmentId: int(0),
      projection: { type: 'boolean' },
      cacheDir: { type: 'string' },
    }),
  }),
  decoder: obj({
    hidden: int(1),
    attention: int(1),
    attentionActivation: oneOf(ATTENTION_ACTIVATIONS),
    context: oneOf(CONTEXT_MODES),
    gate: oneOf(GATE_MODES),
    dropout: { type: 'number', min: 0, max: 1 },
    initRange: num(0, undefined, { exclusiveMin: true }),
  }),
  train: obj({
    epochs: int(0),
    batchSize: int(1),
    imagesPerBatch: int(1, { nullable: true }),
    learningRate: num(0, undefined, { exclusiveMin: true }),
    encoderLearningRate: num(0, undefined, { nullable: true }),
    clip: obj({ mode: oneOf(CLIP_MODES), value: num(0, undefined, { exclusiveMin: true }) }),
    alphaC: num(0),
    attentionPenalty: oneOf(ATTENTION_PENALTY_REDUCTIONS),
    bucketByLength: { type: 'boolean' },
    lrDecay: obj({ factor: num(0, 1, { exclusiveMin: true }), patience: int(1) }),
    earlyStopping: obj({ patience: int(1) }),
    validation: obj({ beam: int(1), maxLength: int(1), images: int(1, { nullable: true }) }),
  }),
  decode: obj({ beam: int(1), maxLength: int(1), lengthPenalty: num(0) }),
});

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function checkValue(rule: Rule, value: unknown, key: string): void {
  const fail = (expected: string): never => {
    throw new Error(`config key ${JSON.stringify(key)} must be ${expected}, got ${describe(value)}`);
  };
  switch (rule.type) {
    case 'number': {
      if (value === null && rule.nullable) return;
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(`a number${rule.nullable ? ' or null' : ''}`);
      const v = value as number;
      if (rule.integer && !Number.isInteger(v)) fail('a whole number');
      if (rule.min !== undefined && (rule.exclusiveMin ? v <= rule.min : v < rule.min)) fail(`${rule.exclusiveMin ? '>' : '>='} ${rule.min}`);
      if (rule.max !== undefined && v > rule.max) fail(`<= ${rule.max}`);
      return;
    }
    case 'string':
      if (value === null && rule.nullable) return;
      if (typeof value !== 'string' || value === '') fail(`a non-empty string${rule.nullable ? ' or null' : ''}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail('true or false');
      return;
    case 'enum':
      if (typeof value !== 'string' || !rule.values.includes(value)) fail(`one of ${rule.values.map((v) => JSON.stringify(v)).join(', ')}`);
      return;
    case 'integers':
      if (!Array.isArray(value) || value.length === 0 || !value.every((v) => Number.isInteger(v) && v >= rule.min)) fail(`a non-empty list of whole numbers >= ${rule.min}`);
      return;
    case 'normalisation': {
      if (typeof value === 'string') {
        if (!(NORMALISATION_NAMES as string[]).includes(value)) fail(`one of ${NORMALISATION_NAMES.map((v) => JSON.stringify(v)).join(', ')} or { mean, std }`);
        return;
      }
      const n = value as { mean?: unknown; std?: unknown } | null;
      const triple = (x: unknown, positive: boolean) => Array.isArray(x) && x.length === 3 && x.every((v) => typeof v === 'number' && Number.isFinite(v) && (!positive || v > 0));
      if (typeof n !== 'object' || n === null || Object.keys(n).some((k) => k !== 'mean' && k !== 'std') || !triple(n.mean, false) || !triple(n.std, true)) {
        fail(`a preset (${NORMALISATION_NAMES.join(', ')}) or { mean: [3 numbers], std: [3 positive numbers] }`);
      }
      return;
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('an object');
      const record = value as Record<string, unknown>;
      for (const k of Object.keys(record)) {
        if (!(k in rule.fields)) {
          throw new Error(`config key ${JSON.stringify(key ? `${key}.${k}` : k)} is unknown; known keys${key ? ` of ${JSON.stringify(key)}` : ''}: ${Object.keys(rule.fields).join(', ')}`);
        }
      }
      for (const [k, r] of Object.entries(rule.fields)) checkValue(r, record[k], key ? `${key}.${k}` : k);
      return;
    }
    default: {
      const never: never = rule;
      throw new Error(`config: unknown rule ${JSON.stringify(never)}`);
    }
  }
}

/** Checks a complete config; throws naming the first bad or unknown key. */
export function validateConfig(config: unknown): CaptionerConfig {
  checkValue(SCHEMA, config, '');
  const c = config as CaptionerConfig;
  if (c.encoder.cnn.channels.length !== c.encoder.cnn.strides.length) {
    throw new Error(`config keys "encoder.cnn.channels" and "encoder.cnn.strides" must have the same length, got ${c.encoder.cnn.channels.length} and ${c.encoder.cnn.strides.length}`);
  }
  return c;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge of an override onto a base; arrays and { mean, std } replace, never merge. Unknown keys are kept (validation names them). */
function merge(base: unknown, override: unknown, rule: Rule | undefined): unknown {
  if (override === undefined) return structuredCloneJson(base);
  if (rule?.type === 'object' && isPlainObject(base) && isPlainObject(override)) {
    const out: Record<string, unknown> = {};
    for (const k of new Set([...Object.keys(base), ...Object.keys(override)])) out[k] = merge(base[k], override[k], rule.fields[k]);
    return out;
  }
  return structuredCloneJson(override);
}

function structuredCloneJson<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** The defaults, a profile and overrides (applied in order), merged and validated. */
export function resolveConfig(profile: ProfileName = 'quick', ...overrides: (ConfigOverride | Record<string, unknown>)[]): CaptionerConfig {
  if (!(PROFILE_NAMES as readonly string[]).includes(profile)) {
    throw new Error(`unknown profile ${JSON.stringify(profile)}; use one of ${PROFILE_NAMES.join(', ')}`);
  }
  let merged = merge(DEFAULT_CONFIG, PROFILES[profile], SCHEMA);
  for (const override of overrides) merged = merge(merged, override, SCHEMA);
  return validateConfig(merged);
}

/**
 * The report's two models as overrides: `baseline` (learned word table) and `bert` (frozen
 * BERT vectors in the report's bidirectional mode; the profile says which BERT).
 *
 *   resolveConfig('quick', VARIANTS.bert, { words: { bert: { mode: 'causal' } } });
 */
export const VARIANT_NAMES = ['baseline', 'bert'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];
export const VARIANTS: Record<VariantName, ConfigOverride> = {
  baseline: {},
  bert: { words: { kind: 'bert' } },
};

/** The rule of a dotted key, or an error naming it. */
function ruleOf(key: string): Rule {
  let rule: Rule = SCHEMA;
  const parts = key.split('.');
  parts.forEach((part, i) => {
    if (rule.type !== 'object' || !(part in rule.fields)) {
      const at = parts.slice(0, i).join('.');
      const known = rule.type === 'object' ? `; known keys${at ? ` of ${JSON.stringify(at)}` : ''}: ${Object.keys(rule.fields).join(', ')}` : '';
      throw new Error(`config key ${JSON.stringify(key)} is unknown${known}`);
    }
    rule = rule.fields[part];
  });
  return rule;
}

/**
 * `key=value` settings (the command line's `--set`) as an override: values parse as JSON
 * where they can (`4e-4`, `true`, `null`, `[32,64]`), else as strings (`relu`).
 */
export function parseSettings(settings: readonly string[]): Record<string, unknown> {
  const override: Record<string, unknown> = {};
  for (const setting of settings) {
    const eq = setting.indexOf('=');
    if (eq <= 0) throw new Error(`setting ${JSON.stringify(setting)} must look like key=value, e.g. decoder.hidden=256`);
    const key = setting.slice(0, eq).trim();
    const raw = setting.slice(eq + 1).trim();
    const rule = ruleOf(key);
    let value: unknown = raw;
    if (rule.type !== 'string' && rule.type !== 'enum') {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
    } else if (raw === 'null') value = null;
    let target = override;
    const parts = key.split('.');
    for (const part of parts.slice(0, -1)) {
      if (!isPlainObject(target[part])) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    target[parts[parts.length - 1]] = value;
  }
  return override;
}
