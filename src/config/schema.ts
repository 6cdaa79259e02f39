/**
 * The config's schema: the type and range of every key, checked with errors that name the
 * offending key and what it must be.
 *
 *   validateConfig(config);        // the config, typed, or Error: config key "decoder.hidden" must be >= 1, got 0
 *   ruleOf('train.clip.mode');     // { type: 'enum', values: ['value', 'norm', 'none'] }
 */
import {
  ALIGNMENTS,
  ATTENTION_ACTIVATIONS,
  ATTENTION_PENALTY_REDUCTIONS,
  BERT_MODES,
  type CaptionerConfig,
  CHANNEL_ORDERS,
  CLIP_MODES,
  CONTEXT_MODES,
  GATE_MODES,
  NORMALISATION_NAMES,
  RESTVAL_POLICIES,
} from './types';

export type Rule =
  | { type: 'number'; integer?: boolean; min?: number; max?: number; exclusiveMin?: boolean; nullable?: boolean; auto?: boolean }
  | { type: 'string'; nullable?: boolean }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'integers'; min: number }
  | { type: 'normalisation' }
  | { type: 'object'; fields: Record<string, Rule> };

const int = (min: number, extra: { nullable?: boolean; auto?: boolean } = {}): Rule => ({ type: 'number', integer: true, min, ...extra });
const num = (min: number, max?: number, extra: { exclusiveMin?: boolean; nullable?: boolean } = {}): Rule => ({ type: 'number', min, ...(max !== undefined ? { max } : {}), ...extra });
const obj = (fields: Record<string, Rule>): Rule => ({ type: 'object', fields });
const oneOf = (values: readonly string[]): Rule => ({ type: 'enum', values });

/** The type of every key (the defaults give the values). */
export const SCHEMA: Rule = obj({
  seed: int(0),
  data: obj({
    source: oneOf(['scenes', 'karpathy']),
    dir: { type: 'string' },
    imagesRoot: { type: 'string', nullable: true },
    scenes: obj({ images: int(1), size: int(32), seed: int(0), occlusion: num(0, 1), captionsPerImage: int(1) }),
    restval: oneOf(RESTVAL_POLICIES),
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
    workers: int(1, { auto: true }),
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
      if (value === 'auto' && rule.auto) return;
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(`a number${rule.nullable ? ' or null' : ''}${rule.auto ? ' or "auto"' : ''}`);
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
        if (!(NORMALISATION_NAMES as readonly string[]).includes(value)) fail(`one of ${NORMALISATION_NAMES.map((v) => JSON.stringify(v)).join(', ')} or { mean, std }`);
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

/** The rule of a dotted key, or an error naming it. */
export function ruleOf(key: string): Rule {
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
