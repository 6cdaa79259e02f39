/**
 * Training speed: the time of one optimiser step (forward with teacher forcing, loss,
 * backward, clip, Adam) through `Trainer.trainStep`, the code path training runs.
 *
 * Shapes (batch 32 captions each):
 *
 *   small   49 regions x 512, embedding 256, hidden 512, attention 256, vocabulary 2000, 16 steps
 *   paper   196 regions x 2048, embedding 512, hidden 512, attention 512, vocabulary 9490, 16 steps
 *   quick   64 regions x 96 (MobileNetV2 block_12_add at 128 px), embedding 64, hidden 256,
 *           attention 128, vocabulary 48, 14 steps: the quick profile's decoder
 *
 * small and paper use synthetic captions that all run the full 16 steps (so the step is the
 * same work PyTorch's figure in FACTS.md §4 measures); quick uses captions of 3..14 steps
 * (the scenes data's spread), so that teacher forcing shrinks the batch as captions end.
 * Settings as the profiles: ReLU attention, vector gate, dropout 0.5, clip by value 5;
 * alpha_c 1 for small and paper, 0 for quick.
 *
 * `quick-data` is the quick profile's real training step: `resolveConfig('quick')`, the
 * scenes-quick captions and cached MobileNetV2 features (prepared first if missing: about
 * a minute), `buildCaptioner` and `trainerOptions` as `captioning train` uses them; its
 * batches' longest captions run 10..27 steps.
 *
 * Each shape runs under both teacher-forcing implementations: 'reference' (the plain path,
 * the "before" column) and 'optimised'. Median of several steps after warm-up steps.
 *
 *   npx tsx bench/run.ts training     # this benchmark only
 */
import * as tf from '@tensorflow/tfjs';

import type { EncodedCaptions } from '../src/data/encoded-captions';
import { LearnedEmbedding } from '../src/embeddings/learned';
import { MemoryInputs } from '../src/encoders/inputs';
import { Captioner } from '../src/model/captioner';
import { Decoder } from '../src/model/decoder';
import { resolveConfig } from '../src/config';
import type { TeacherForcingImplementation } from '../src/train/loss';
import { buildCaptioner, prepareData, trainerOptions } from '../src/train/setup';
import { Trainer } from '../src/train/trainer';
import { median, seededValues, type BenchResult } from './timing';

/** A decoder shape and the synthetic batch it trains on. */
export interface TrainingShape {
  name: 'small' | 'paper' | 'quick';
  B: number;
  P: number;
  D: number;
  E: number;
  H: number;
  A: number;
  V: number;
  /** Steps of the longest caption. */
  T: number;
  /** Shortest caption in steps (T: every caption runs the full T steps). */
  minSteps: number;
  alphaC: number;
  warmup: number;
  runs: number;
}

export const TRAINING_SHAPES: readonly TrainingShape[] = [
  { name: 'quick', B: 32, P: 64, D: 96, E: 64, H: 256, A: 128, V: 48, T: 14, minSteps: 3, alphaC: 0, warmup: 3, runs: 15 },
  { name: 'small', B: 32, P: 49, D: 512, E: 256, H: 512, A: 256, V: 2000, T: 16, minSteps: 16, alphaC: 1, warmup: 3, runs: 15 },
  { name: 'paper', B: 32, P: 196, D: 2048, E: 512, H: 512, A: 512, V: 9490, T: 16, minSteps: 16, alphaC: 1, warmup: 1, runs: 3 },
];

/** A captioner of the shape, its weights from `seed`. */
export function shapeCaptioner(shape: TrainingShape, seed = 1): Captioner {
  return new Captioner({
    encoder: null,
    words: new LearnedEmbedding({ vocabularySize: shape.V, dim: shape.E, seed }),
    decoder: new Decoder({
      vocabularySize: shape.V,
      featureDim: shape.D,
      embeddingDim: shape.E,
      hiddenSize: shape.H,
      attentionSize: shape.A,
      attentionActivation: 'relu',
      context: 'soft-attention',
      gate: 'vector',
      seed,
    }),
  });
}

/**
 * `images` synthetic images (features [P, D] in [-1, 1)) with one caption each: `<start>`,
 * words (ids 4..V-1), `<end>`; caption i makes minSteps + (i mod (T - minSteps + 1)) predictions.
 */
export function syntheticData(shape: TrainingShape, images: number, seed = 1): { captions: EncodedCaptions; inputs: MemoryInputs } {
  const { P, D, V, T, minSteps } = shape;
  const words = seededValues(images * T, seed + 1000);
  const offsets = new Int32Array(images + 1);
  const ids: number[] = [];
  for (let i = 0; i < images; i++) {
    const steps = minSteps + (i % (T - minSteps + 1)); // predictions: words + <end>
    ids.push(1); // <start>
    for (let k = 0; k < steps - 1; k++) ids.push(4 + Math.floor(((words[i * T + k] + 1) / 2) * (V - 4)));
    ids.push(2); // <end>
    offsets[i + 1] = ids.length;
  }
  const byImage = new Map(Array.from({ length: images }, (_, i) => [i, seededValues(P * D, seed * 7919 + i)] as const));
  const captions: EncodedCaptions = {
    vocabulary: `synthetic-v${V}`,
    splits: ['train'],
    image: Int32Array.from({ length: images }, (_, i) => i),
    caption: new Int32Array(images),
    offsets,
    ids: Int32Array.from(ids),
    report: { captions: images, encoded: images, truncated: 0, skipped: 0, tokens: ids.length, unknown: 0 },
  };
  return { captions, inputs: new MemoryInputs('features', [P, D], byImage) };
}

/** A trainer of the shape with the profiles' settings. */
export function shapeTrainer(shape: TrainingShape, implementation: TeacherForcingImplementation, seed = 1): Trainer {
  const data = syntheticData(shape, shape.B * 2, seed);
  return new Trainer(shapeCaptioner(shape, seed), data, {
    batchSize: shape.B,
    imagesPerBatch: null,
    learningRate: 4e-4,
    encoderLearningRate: null,
    clip: { mode: 'value', value: 5 },
    alphaC: shape.alphaC,
    attentionPenalty: 'mean',
    dropout: 0.5,
    bucketByLength: false,
    lrDecay: { factor: 0.8, patience: 8 },
    earlyStopping: { patience: 20 },
    seed,
    teacherForcing: implementation,
  });
}

/** The quick profile's trainer on its real data (see the header). */
export async function quickDataTrainer(implementation: TeacherForcingImplementation): Promise<Trainer> {
  const config = resolveConfig('quick');
  const data = await prepareData(config, { log: null });
  return new Trainer(buildCaptioner(config, data), { captions: data.train, inputs: data.inputs }, { ...trainerOptions(config), teacherForcing: implementation });
}

/** What a data-parallel worker of the bench builds (src/train/data-parallel.ts): the same trainer as the bench's own. */
export interface BenchWorkerArgument {
  shape: string;
  implementation: TeacherForcingImplementation;
}

/** The bench's trainer of a shape ('quick-data': the real one); also the data-parallel workers' recipe. */
export async function benchTrainer(argument: BenchWorkerArgument): Promise<Trainer> {
  if (argument.shape === 'quick-data') return quickDataTrainer(argument.implementation);
  const shape = TRAINING_SHAPES.find((s) => s.name === argument.shape);
  if (!shape) throw new Error(`unknown training shape ${JSON.stringify(argument.shape)}`);
  return shapeTrainer(shape, argument.implementation);
}

/**
 * Median milliseconds of one training step of a shape ('quick-data': the real one) under one
 * implementation, with `workers` data-parallel workers (this thread and workers - 1 threads).
 */
export async function timeTrainingStep(shape: TrainingShape | 'quick-data', implementation: TeacherForcingImplementation, workers = 1): Promise<{ medianMs: number; times: number[]; loss: number }> {
  const argument: BenchWorkerArgument = { shape: shape === 'quick-data' ? shape : shape.name, implementation };
  const trainer = await benchTrainer(argument);
  trainer.useWorkers(workers, { module: __filename, exportName: 'benchTrainer', argument });
  const { warmup, runs } = shape === 'quick-data' ? { warmup: 5, runs: 25 } : shape;
  const plan = trainer.plan(0);
  const times: number[] = [];
  let loss = NaN;
  try {
    for (let s = 0; s < warmup + runs; s++) {
      const start = process.hrtime.bigint();
      const out = await trainer.trainStep(plan[s % plan.length], 0, s, { next: plan[(s + 1) % plan.length] });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (s >= warmup) times.push(ms);
      loss = out.loss;
    }
  } finally {
    trainer.dispose();
    trainer.captioner.dispose();
  }
  return { medianMs: median(times), times, loss };
}

/** The training-step benchmark of every shape (or those named), both implementations, with `workers` data-parallel workers. */
export async function benchTrainingSteps(names?: readonly string[], implementations: readonly TeacherForcingImplementation[] = ['reference', 'optimised'], workers = 1): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const shape of ['quick-data' as const, ...TRAINING_SHAPES]) {
    const name = shape === 'quick-data' ? shape : shape.name;
    if (names && names.length > 0 && !names.includes(name)) continue;
    for (const implementation of implementations) {
      const before = tf.memory().numTensors;
      const r = await timeTrainingStep(shape, implementation, workers);
      const leaked = tf.memory().numTensors - before;
      results.push({
        name: `training step, ${name}, ${implementation}${workers > 1 ? `, ${workers} workers` : ''}`,
        workers,
        medianMs: r.medianMs,
        minMs: Math.min(...r.times),
        runs: r.times.length,
        shape: name,
        implementation,
        lastLoss: r.loss,
        timesMs: r.times.map((t) => t.toFixed(1)).join(' '),
        leakedTensors: leaked,
      });
    }
  }
  return results;
}
