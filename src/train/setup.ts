/**
 * From a config to the pieces of a run: the dataset and vocabulary, encoded captions, the
 * encoder inputs of every image (pixels for a CNN trained with the decoder; cached feature
 * grids for a frozen backbone, extracted first), the word inputs computed ahead (BERT,
 * word-setup.ts), and a fresh captioner.
 *
 *   const config = resolveConfig('quick');
 *   const data = await prepareData(config);              // generates scenes / extracts features when needed
 *   const captioner = buildCaptioner(config, data);
 *   const trainer = new Trainer(captioner, { captions: data.train, inputs: data.inputs }, trainerOptions(config));
 */
import * as path from 'path';

import { projectPath } from '../common/project';

import { type CaptionDataset, type Split } from '../data/dataset';
import { loadKarpathy } from '../data/karpathy';
import { ensureScenes } from '../data/scenes/generate';
import { buildVocabulary } from '../data/build-vocabulary';
import { encodeCaptions, type EncodedCaptions } from '../data/encoded-captions';
import { type Vocabulary } from '../data/vocabulary';
import { extractFeatures, FeatureCache } from '../encoders/feature-cache';
import { DiskFeatureInputs, loadFeatureInputs } from '../encoders/feature-inputs';
import { type ImageInputs, loadPixelInputs } from '../encoders/inputs';
import { loadPretrainedEncoder } from '../encoders/pretrained';
import { SmallCnn } from '../encoders/small-cnn';
import { Captioner } from '../model/captioner';
import type { CaptionerConfig } from '../config';
import { Decoder } from '../model/decoder';
import type { TrainerOptions } from './trainer';
import { bertWordsFingerprint, type PreparedWords, prepareWordInputs, wordInputsFor } from './word-setup';

/** What the encoder gives per image. */
export interface EncoderInfo {
  kind: CaptionerConfig['encoder']['kind'];
  /** Feature-cache id (frozen) or architecture id (trained). */
  id: string;
  grid: [number, number];
  featureDim: number;
}

export interface PreparedData {
  dataset: CaptionDataset;
  vocab: Vocabulary;
  train: EncodedCaptions;
  val: EncodedCaptions;
  /** Image indices (into dataset.images) per split. */
  images: Record<Split, number[]>;
  /** Encoder inputs of every image of the three splits. */
  inputs: ImageInputs;
  encoder: EncoderInfo;
  /** BERT word inputs computed ahead (the `bert` variant); null for a learned table. */
  words: PreparedWords | null;
  /** For run ids: dataset, vocabulary and (frozen encoders) feature-cache fingerprints. */
  fingerprints: Record<string, string>;
}

export interface PrepareOptions {
  /** Progress lines (default stderr; null: silent). */
  log?: ((line: string) => void) | null;
  /** Keep cached features in memory (default: when they take under 2 GB). */
  featuresInMemory?: boolean;
  /**
   * 'train' (default): everything training needs; 'decode': what free-running decoding needs,
   * without the BERT teacher-forcing inputs of every train and val caption (an evaluation of
   * a finished run skips that pass over COCO's 616k captions).
   */
  purpose?: 'train' | 'decode';
}

/** The config's dataset: the scenes (generated first when missing) or a Karpathy split file. */
export async function loadConfigDataset(config: CaptionerConfig, options: Pick<PrepareOptions, 'log'> = {}): Promise<CaptionDataset> {
  const log = options.log === undefined ? (line: string) => process.stderr.write(line + '\n') : options.log;
  const data = config.data;
  if (data.source === 'scenes') {
    const scenes = await ensureScenes(projectPath(data.dir), data.scenes, { log });
    return loadKarpathy(scenes.datasetFile, { imagesRoot: scenes.imagesRoot });
  }
  const file = projectPath(data.dir);
  return loadKarpathy(file, { imagesRoot: data.imagesRoot === null ? path.dirname(file) : projectPath(data.imagesRoot), restval: data.restval });
}

/** Loads (or generates) the dataset, builds the vocabulary, prepares the encoder inputs. */
export async function prepareData(config: CaptionerConfig, options: PrepareOptions = {}): Promise<PreparedData> {
  const log = options.log === undefined ? (line: string) => process.stderr.write(line + '\n') : options.log;
  const { data, encoder } = config;
  const dataset = await loadConfigDataset(config, { log });
  const vocab = buildVocabulary(dataset, { minCount: data.minCount, maxLength: data.maxLength });
  const train = encodeCaptions(dataset, vocab, 'train');
  const val = encodeCaptions(dataset, vocab, 'val');
  const images: Record<Split, number[]> = { train: [], val: [], test: [] };
  dataset.images.forEach((image, i) => images[image.split].push(i));
  const all = [...images.train, ...images.val, ...images.test];
  const fingerprints: Record<string, string> = { dataset: dataset.fingerprint, vocabulary: vocab.fingerprint };

  let inputs: ImageInputs;
  let info: EncoderInfo;
  if (encoder.kind === 'small-cnn') {
    inputs = await loadPixelInputs(dataset, all, { size: encoder.inputSize, normalisation: encoder.normalisation, resize: encoder.resize, channelOrder: encoder.channelOrder });
    const cnn = smallCnnOf(config);
    info = { kind: 'small-cnn', id: cnn.id, grid: cnn.grid, featureDim: cnn.featureDim };
    cnn.dispose();
  } else {
    const frozen = await loadPretrainedEncoder(pretrainedSpec(config));
    try {
      const cache = new FeatureCache(projectPath(encoder.cache.dir), frozen, dataset, { dtype: encoder.cache.dtype });
      const report = await extractFeatures(frozen, cache, all, { batchSize: encoder.cache.batchSize, log });
      if (log) log(`features: ${report.cached} cached, ${report.computed} computed (${cache.entries})`);
      const bytes = all.length * cache.shape[0] * cache.shape[1] * 4;
      inputs = options.featuresInMemory ?? bytes < 2 ** 31 ? await loadFeatureInputs(cache, all) : new DiskFeatureInputs(cache);
      info = { kind: 'pretrained', id: frozen.id, grid: frozen.grid, featureDim: frozen.featureDim };
      fingerprints.features = frozen.id;
    } finally {
      frozen.dispose();
    }
  }
  const words = await prepareWordInputs(config, { dataset, vocab, train, val }, { log, teacherForcing: (options.purpose ?? 'train') === 'train' });
  if (words) fingerprints.words = words.inputs.id;
  return { dataset, vocab, train, val, images, inputs, encoder: info, words, fingerprints };
}

/** The frozen encoder a config names. */
function pretrainedSpec(config: CaptionerConfig): Parameters<typeof loadPretrainedEncoder>[0] {
  const { encoder } = config;
  return { ...encoder.pretrained, inputSize: encoder.inputSize, normalisation: encoder.normalisation, channelOrder: encoder.channelOrder, resize: encoder.resize };
}

/**
 * The fingerprints `prepareData` records for a config (they name its run), found without
 * extracting features or computing BERT vectors: how `trainRuns` finds finished runs without
 * preparing their data. Null when they cannot be known yet: the project's BERT is not
 * pretrained, or a hub BERT is not in the cache.
 */
export async function runFingerprints(config: CaptionerConfig): Promise<Record<string, string> | null> {
  const dataset = await loadConfigDataset(config, { log: null });
  const vocab = buildVocabulary(dataset, { minCount: config.data.minCount, maxLength: config.data.maxLength });
  const fingerprints: Record<string, string> = { dataset: dataset.fingerprint, vocabulary: vocab.fingerprint };
  if (config.encoder.kind === 'pretrained') {
    const frozen = await loadPretrainedEncoder(pretrainedSpec(config));
    fingerprints.features = frozen.id;
    frozen.dispose();
  }
  if (config.words.kind === 'bert') {
    const words = await bertWordsFingerprint(config, { dataset, vocab });
    if (words === null) return null;
    fingerprints.words = words;
  }
  return fingerprints;
}

function smallCnnOf(config: CaptionerConfig): SmallCnn {
  const { cnn, inputSize } = config.encoder;
  return new SmallCnn({ inputSize, channels: cnn.channels, strides: cnn.strides, kernel: cnn.kernel, seed: config.seed });
}

/** A fresh captioner for a config, initialised from its seed. */
export function buildCaptioner(config: CaptionerConfig, data: Pick<PreparedData, 'vocab' | 'encoder' | 'words'>): Captioner {
  const V = data.vocab.size;
  const encoder = config.encoder.kind === 'small-cnn' ? smallCnnOf(config) : null;
  const featureDim = encoder ? encoder.featureDim : data.encoder.featureDim;
  const words = wordInputsFor(config, data.vocab, data.words);
  const decoder = new Decoder({
    vocabularySize: V,
    featureDim,
    embeddingDim: words.dim,
    hiddenSize: config.decoder.hidden,
    attentionSize: config.decoder.attention,
    attentionActivation: config.decoder.attentionActivation,
    context: config.decoder.context,
    gate: config.decoder.gate,
    initRange: config.decoder.initRange,
    seed: config.seed,
  });
  return new Captioner({ encoder, words, decoder });
}

/** The trainer's options from a config: its `train` section without epochs and validation, with the dropout rate and seed. */
export function trainerOptions(config: CaptionerConfig): TrainerOptions {
  const { epochs: _epochs, validation: _validation, clip, lrDecay, earlyStopping, ...rest } = config.train;
  return { ...rest, clip: { ...clip }, lrDecay: { ...lrDecay }, earlyStopping: { ...earlyStopping }, dropout: config.decoder.dropout, seed: config.seed };
}
