// Tiny fixtures shared by the model and training tests: a random captioner over random
// features, a table captioner whose word probabilities are written by hand (for exact
// decoding tests), and a hand-made caption dataset with a ten-word vocabulary.
import * as tf from '@tensorflow/tfjs';

import { buildVocabulary } from '../../src/data/build-vocabulary';
import type { DatasetImage } from '../../src/data/dataset';
import { encodeCaptions, type EncodedCaptions } from '../../src/data/encoded-captions';
import { END_ID, PAD_ID, START_ID, type Vocabulary } from '../../src/data/vocabulary';
import type { WordInputs } from '../../src/embeddings/word-inputs';
import { LearnedEmbedding } from '../../src/embeddings/learned';
import { MemoryInputs } from '../../src/encoders/inputs';
import { SmallCnn } from '../../src/encoders/small-cnn';
import { Captioner } from '../../src/model/captioner';
import { Decoder, type DecoderOptions, type DecoderState, type EncodedImages } from '../../src/model/decoder';
import { tidyObject } from '../../src/model/tidy';
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

/**
 * A table model: P(next id | prefix, image) as a function of the prefix (word ids without
 * `<start>`) and the image index. `next` names the probabilities of some ids; the rest of
 * the mass is spread evenly over the other ids decoding can produce (`<end>` and ids >= 3),
 * so every distribution sums to 1.
 */
export type NextWords = (prefix: readonly number[], image: number) => { readonly [id: number]: number | undefined };

/** The full distribution [V] of a table model after a prefix (0 for `<pad>` and `<start>`). */
export function tableProbabilities(V: number, next: NextWords, prefix: readonly number[], image: number): Float64Array {
  const named = next(prefix, image);
  const p = new Float64Array(V); // [V]
  const free: number[] = [];
  let mass = 0;
  for (let id = 0; id < V; id++) {
    if (id === PAD_ID || id === START_ID) continue;
    const q = named[id];
    if (q !== undefined) {
      p[id] = q;
      mass += q;
    } else free.push(id);
  }
  if (mass > 1 + 1e-12 || (free.length === 0 && Math.abs(mass - 1) > 1e-12)) throw new Error(`table model: probabilities after [${prefix}] sum to ${mass}`);
  for (const id of free) p[id] = (1 - mass) / free.length;
  return p;
}

/** The attention [P] a table model gives the word after a prefix: fixed, uneven weights. */
export function tableAttention(prefix: readonly number[], P: number): Float32Array {
  const key = prefix.reduce((k, w) => (k * 31 + w) % 997, prefix.length);
  const w = Array.from({ length: P }, (_, p) => 1 + ((key + 3 * p) % 5)); // [P]
  const total = w.reduce((a, b) => a + b, 0);
  return Float32Array.from(w, (x) => x / total);
}

/**
 * A captioner over a table model (see {@link NextWords}), for decoding tests with
 * probabilities known exactly. Inputs are features [N, P, 1] holding the image index
 * ({@link tableImages}); the decoder's logits are log P(next | prefix, image) and its
 * attention {@link tableAttention}. Its state is a dummy [B, 1]: rows are told apart by the
 * prefixes that decoding hands to `words.prepareLast` before every step.
 */
export function tableCaptioner(V: number, next: NextWords, P = 3): Captioner {
  let prefixes: readonly (readonly number[])[] = [];
  const words: WordInputs = {
    id: 'table',
    dim: 1,
    causal: true,
    variables: new Map(),
    embedPrefix: () => {
      throw new Error('table captioner: decoding only');
    },
    embedLast: (ids) => tf.zeros([ids.shape[0], 1]) as tf.Tensor2D, // [B, 1]
    prepareLast: async (p) => {
      prefixes = p;
    },
    dispose: () => {},
  };
  const decoder = {
    initialState: (encoded: EncodedImages): DecoderState => {
      const B = encoded.features.shape[0];
      return { h: tf.zeros([B, 1]) as tf.Tensor2D, c: tf.zeros([B, 1]) as tf.Tensor2D }; // [B, 1] x 2
    },
    projectWords: (vectors: tf.Tensor2D) => vectors.clone(), // [B, 1]
    step: (_wordGates: tf.Tensor2D, state: DecoderState, encoded: EncodedImages) => {
      const [B, P0] = encoded.features.shape;
      const image = encoded.features.dataSync(); // [B, P, 1]
      if (prefixes.length !== B) throw new Error(`table captioner: ${prefixes.length} prefixes for ${B} rows`);
      const logits = new Float32Array(B * V); // [B, V]
      const alpha = new Float32Array(B * P0); // [B, P]
      prefixes.forEach((withStart, r) => {
        const prefix = withStart.slice(1);
        const p = tableProbabilities(V, next, prefix, image[r * P0]);
        for (let id = 0; id < V; id++) logits[r * V + id] = p[id] > 0 ? Math.log(p[id]) : -1e9;
        alpha.set(tableAttention(prefix, P0), r * P0);
      });
      return { logits: tf.tensor2d(logits, [B, V]), alpha: tf.tensor2d(alpha, [B, P0]), state: { h: state.h.clone(), c: state.c.clone() } };
    },
    dispose: () => {},
  };
  return {
    encoder: null,
    words,
    decoder: decoder as unknown as Decoder,
    encode: (inputs: tf.Tensor): EncodedImages => tidyObject(() => ({ features: (inputs as tf.Tensor3D).clone(), projected: null, mean: (inputs as tf.Tensor3D).mean(1) as tf.Tensor2D })), // [N, P, 1], -, [N, 1]
    dispose: () => {},
  } as unknown as Captioner;
}

/** Inputs of a table captioner: N images, P regions, each holding its image index [N, P, 1]. */
export function tableImages(N: number, P = 3): tf.Tensor3D {
  return tf.tensor3d(Array.from({ length: N * P }, (_, i) => Math.floor(i / P)), [N, P, 1]);
}

/** Every caption of a table model up to maxLength words, with its exact log-probability (host maths, float64). */
export function tableCaptions(V: number, next: NextWords, maxLength: number, image = 0): { words: number[]; ended: boolean; logProb: number }[] {
  const out: { words: number[]; ended: boolean; logProb: number }[] = [];
  const grow = (prefix: number[], logProb: number) => {
    if (prefix.length === maxLength) {
      out.push({ words: prefix, ended: false, logProb });
      return;
    }
    const p = tableProbabilities(V, next, prefix, image);
    out.push({ words: prefix, ended: true, logProb: logProb + Math.log(p[END_ID]) });
    for (let id = 3; id < V; id++) if (p[id] > 0) grow([...prefix, id], logProb + Math.log(p[id]));
  };
  grow([], 0);
  return out;
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
