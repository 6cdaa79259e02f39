// Tiny fixtures shared by the model and training tests: a random captioner over random
// features, and a hand-made caption dataset with a ten-word vocabulary.
import * as tf from '@tensorflow/tfjs';

import type { DatasetImage } from '../../src/data/dataset';
import { buildVocabulary, encodeCaptions, type EncodedCaptions, type Vocabulary } from '../../src/data/vocabulary';
import { LearnedEmbedding } from '../../src/embeddings/learned';
import { MemoryInputs } from '../../src/encoders/inputs';
import { SmallCnn } from '../../src/encoders/small-cnn';
import { Captioner } from '../../src/model/captioner';
import { Decoder, type DecoderOptions } from '../../src/model/decoder';
import type { TrainerOptions } from '../../src/train/trainer';

/** Deterministic values in [-1, 1). */
export function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

export interface TinyOptions extends Partial<DecoderOptions> {
  V?: number;
  P?: number;
  D?: number;
  E?: number;
  /** Train a small CNN on 16 px pixels instead of reading features. */
  cnn?: boolean;
}

/** A random captioner: features [N, P, D] in, V ids out. */
export function tinyCaptioner(options: TinyOptions = {}): Captioner {
  const { V = 8, P = 4, D = 3, E = 4, cnn = false, ...decoder } = options;
  const encoder = cnn ? new SmallCnn({ inputSize: 16, channels: [4, 6], strides: [2, 2], seed: decoder.seed ?? 1 }) : null;
  return new Captioner({
    encoder,
    words: new LearnedEmbedding({ vocabularySize: V, dim: E, seed: decoder.seed ?? 1, initRange: decoder.initRange ?? 0.1 }),
    decoder: new Decoder({
      vocabularySize: V,
      featureDim: encoder ? encoder.featureDim : D,
      embeddingDim: E,
      hiddenSize: 5,
      attentionSize: 3,
      attentionActivation: 'tanh',
      context: 'soft-attention',
      gate: 'scalar',
      seed: 1,
      ...decoder,
    }),
  });
}

export function features(N: number, P: number, D: number, seed = 7): tf.Tensor3D {
  return tf.tensor3d(values(N * P * D, seed), [N, P, D]);
}

const WORDS = ['a', 'red', 'blue', 'circle', 'square', 'left', 'of', 'big', 'small', 'star'];

/** Eight images, three captions each, over a ten-word vocabulary; split 6 train / 1 val / 1 test. */
export function tinyDataset(): { images: DatasetImage[]; vocab: Vocabulary; train: EncodedCaptions; val: EncodedCaptions } {
  const images: DatasetImage[] = [];
  let id = 0;
  for (let i = 0; i < 8; i++) {
    const captions = [0, 1, 2].map((j) => {
      const n = 2 + ((i * 3 + j * 5) % 6);
      const tokens = Array.from({ length: n }, (_, k) => WORDS[(i * 7 + j * 3 + k * 5) % WORDS.length]);
      return { id: id++, raw: tokens.join(' '), tokens };
    });
    images.push({ id: i, file: `img${i}.png`, split: i < 6 ? 'train' : i === 6 ? 'val' : 'test', sourceSplit: 'train', captions });
  }
  const vocab = buildVocabulary({ images }, { minCount: 1, maxLength: 10 });
  return { images, vocab, train: encodeCaptions({ images }, vocab, 'train'), val: encodeCaptions({ images }, vocab, 'val') };
}

/** Random inputs for the images of tinyDataset: features [P, D] or pixels [16, 16, 3]. */
export function tinyInputs(kind: 'features' | 'pixels', P = 4, D = 3): MemoryInputs {
  const shape = kind === 'features' ? [P, D] : [16, 16, 3];
  const n = shape.reduce((a, b) => a * b, 1);
  return new MemoryInputs(kind, shape, new Map(Array.from({ length: 8 }, (_, i) => [i, values(n, 100 + i)])));
}

/** Trainer options for the tiny dataset: every switch on (encoder lr, clipping, alpha_c, dropout, lr decay), with `overrides`. */
export function tinyTrainerOptions(overrides: Partial<TrainerOptions> = {}): TrainerOptions {
  return {
    batchSize: 5,
    imagesPerBatch: null,
    learningRate: 0.01,
    encoderLearningRate: 0.005,
    clip: { mode: 'value', value: 5 },
    alphaC: 1,
    attentionPenalty: 'sum',
    dropout: 0.5,
    bucketByLength: false,
    lrDecay: { factor: 0.5, patience: 1 },
    earlyStopping: { patience: 5 },
    seed: 7,
    ...overrides,
  };
}
