/**
 * What a masked-LM pretraining of the project's own BERT is: its settings (with defaults and
 * checks whose errors name the setting) and its corpus (the captions of a dataset split, and
 * their fingerprint). The resolved settings and the corpus fingerprint are the identity of a
 * pretraining run (pretrain-job.ts), so they must stay stable: the same settings give the
 * same object, whatever the caller left out or spelled out.
 *
 *   const settings = resolvePretrainSettings({ epochs: 4, shape: { hiddenSize: 128 } });
 *   const corpus = corpusFingerprint(captionsOfSplit(dataset, 'train'), captionsOfSplit(dataset, 'val'));
 */
import { createHash } from 'crypto';

import type { CaptionDataset, Split } from '../../data/dataset';
import { BERT_QUICK_SHAPE, checkBertConfig, type BertConfig } from './config';

/** Every setting of a pretraining, with its default in DEFAULT_PRETRAIN_SETTINGS. */
export interface PretrainSettings {
  /** The BERT's shape (the vocabulary size comes from the corpus). */
  shape: Omit<BertConfig, 'vocabSize'>;
  /** Largest WordPiece vocabulary (special pieces included). */
  maxVocabulary: number;
  /** A WordPiece merge needs a pair seen this often. */
  minPairCount: number;
  epochs: number;
  /** Sequences per step. */
  batchSize: number;
  /** Peak learning rate (after warmup). */
  learningRate: number;
  /** Fraction of all steps spent warming up linearly from 0; then linear decay to 0. */
  warmup: number;
  /** Fraction of pieces masked. */
  maskProbability: number;
  /** Probability that a sequence is a pair of captions (segments 0 and 1). */
  pairProbability: number;
  dropout: number;
  /** Gradients are scaled to this global L2 norm when above it. */
  clipNorm: number;
  adamEpsilon: number;
  seed: number;
}

export const DEFAULT_PRETRAIN_SETTINGS: Readonly<PretrainSettings> = Object.freeze({
  shape: { ...BERT_QUICK_SHAPE },
  maxVocabulary: 4000,
  minPairCount: 2,
  epochs: 10,
  batchSize: 64,
  learningRate: 3e-3,
  warmup: 0.1,
  maskProbability: 0.15,
  pairProbability: 0.5,
  dropout: 0.1,
  clipNorm: 1,
  adamEpsilon: 1e-6,
  seed: 1,
});

/** A pretraining: the corpus and any settings that differ from the defaults. */
export interface PretrainOptions extends Partial<Omit<PretrainSettings, 'shape'>> {
  /** Training captions as word tokens (lower-cased, as the datasets give them). */
  captions: readonly (readonly string[])[];
  /** Held-out captions for the validation loss and accuracy. */
  validation?: readonly (readonly string[])[];
  shape?: Partial<Omit<BertConfig, 'vocabSize'>>;
}

type ScalarSetting = Exclude<keyof PretrainSettings, 'shape'>;

/** Settings with defaults applied and checked; errors name the setting. The corpus (`captions`, `validation`) may be passed along and is left out. */
export function resolvePretrainSettings(options: Omit<PretrainOptions, 'captions' | 'validation'>): PretrainSettings {
  const known = new Set([...Object.keys(DEFAULT_PRETRAIN_SETTINGS), 'captions', 'validation']);
  for (const key of Object.keys(options)) if (!known.has(key)) throw new Error(`bert pretraining: unknown setting ${JSON.stringify(key)}; known: ${[...known].join(', ')}`);
  const shapeKeys = new Set(Object.keys(BERT_QUICK_SHAPE));
  for (const key of Object.keys(options.shape ?? {})) if (!shapeKeys.has(key)) throw new Error(`bert pretraining: unknown shape field ${JSON.stringify(key)}; known: ${[...shapeKeys].join(', ')}`);
  // A setting left out (or undefined) takes its default. Built field by field, in
  // DEFAULT_PRETRAIN_SETTINGS's order, so that nothing but settings gets in.
  const given = <K extends ScalarSetting>(key: K): PretrainSettings[K] => {
    const value = options[key];
    return value === undefined ? DEFAULT_PRETRAIN_SETTINGS[key] : value;
  };
  const s: PretrainSettings = {
    shape: { ...DEFAULT_PRETRAIN_SETTINGS.shape, ...stripUndefined(options.shape ?? {}) },
    maxVocabulary: given('maxVocabulary'),
    minPairCount: given('minPairCount'),
    epochs: given('epochs'),
    batchSize: given('batchSize'),
    learningRate: given('learningRate'),
    warmup: given('warmup'),
    maskProbability: given('maskProbability'),
    pairProbability: given('pairProbability'),
    dropout: given('dropout'),
    clipNorm: given('clipNorm'),
    adamEpsilon: given('adamEpsilon'),
    seed: given('seed'),
  };
  checkBertConfig({ ...s.shape, vocabSize: 1 });
  const whole = (key: 'epochs' | 'batchSize' | 'maxVocabulary' | 'minPairCount' | 'seed') => {
    if (!Number.isInteger(s[key]) || s[key] < (key === 'seed' ? 0 : 1)) throw new Error(`bert pretraining: ${key} must be a whole number >= ${key === 'seed' ? 0 : 1}, got ${s[key]}`);
  };
  (['epochs', 'batchSize', 'maxVocabulary', 'minPairCount', 'seed'] as const).forEach(whole);
  const inRange = (key: ScalarSetting, lo: number, hi: number, open = false) => {
    const v = s[key];
    if (!(typeof v === 'number' && (open ? v > lo : v >= lo) && v < hi)) throw new Error(`bert pretraining: ${key} must be in ${open ? '(' : '['}${lo}, ${hi}), got ${v}`);
  };
  inRange('learningRate', 0, 1, true);
  inRange('warmup', 0, 1);
  inRange('maskProbability', 0, 1, true);
  inRange('pairProbability', 0, 1.000001);
  inRange('dropout', 0, 1);
  inRange('clipNorm', 0, Infinity, true);
  inRange('adamEpsilon', 0, 1, true);
  return s;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The word tokens of every caption of a split: a pretraining corpus. */
export function captionsOfSplit(dataset: CaptionDataset, split: Split): string[][] {
  return dataset.images.filter((image) => image.split === split).flatMap((image) => image.captions.map((c) => [...c.tokens]));
}

/** Short SHA-256 of the captions (train and validation), part of a pretraining run's identity. */
export function corpusFingerprint(captions: readonly (readonly string[])[], validation: readonly (readonly string[])[] = []): string {
  const hash = createHash('sha256');
  for (const [name, list] of [['train', captions], ['validation', validation]] as const) {
    hash.update(`${name}:${list.length}\n`);
    for (const c of list) hash.update(c.join(' ') + '\n');
  }
  return hash.digest('hex').slice(0, 12);
}
