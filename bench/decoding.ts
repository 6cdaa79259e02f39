/**
 * Decoding speed: captions per second of batched beam search (beam 3), the decoding of
 * the per-epoch validation and of the test evaluation.
 *
 * The quick profile's decoder (64 regions x 96, embedding 64, hidden 256, attention 128,
 * vocabulary 48) on 100 images (the scenes validation split's size), and the `small`
 * shape (49 x 512, hidden 512, vocabulary 2000) on 32 images. Weights are random and
 * seeded, so captions rarely end early: every image runs close to maxLength (20) steps,
 * the slowest case. Median of several runs after a warm-up.
 *
 *   npx tsx bench/run.ts decoding     # this benchmark only
 */
import * as tf from '@tensorflow/tfjs';

import { beamSearch } from '../src/model/beam-search';
import { median, seededValues, since, type BenchResult } from './timing';
import { shapeCaptioner, TRAINING_SHAPES } from './training-step';

const CASES = [
  { shape: 'quick', images: 100, runs: 5 },
  { shape: 'small', images: 32, runs: 3 },
] as const;
const BEAM = 3;
const MAX_LENGTH = 20;

export async function benchDecoding(names?: readonly string[]): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const c of CASES) {
    if (names && names.length > 0 && !names.includes(c.shape)) continue;
    const shape = TRAINING_SHAPES.find((s) => s.name === c.shape)!;
    const captioner = shapeCaptioner(shape);
    const features = tf.tensor3d(seededValues(c.images * shape.P * shape.D, 11), [c.images, shape.P, shape.D]); // [N, P, D]
    const times: number[] = [];
    let words = 0;
    try {
      for (let r = 0; r <= c.runs; r++) {
        const start = process.hrtime.bigint();
        // `await` works whether beamSearch returns captions or a promise of them.
        const captions = await beamSearch(captioner, features, { beam: BEAM, maxLength: MAX_LENGTH });
        const ms = since(start);
        if (r > 0) times.push(ms); // run 0 warms up
        words = captions.reduce((n, caption) => n + caption.words.length, 0);
      }
    } finally {
      features.dispose();
      captioner.dispose();
    }
    const ms = median(times);
    results.push({
      name: `decoding, beam ${BEAM}, ${c.shape}, ${c.images} images`,
      medianMs: ms,
      minMs: Math.min(...times),
      runs: times.length,
      captionsPerSecond: Number(((c.images * 1000) / ms).toFixed(1)),
      meanWords: Number((words / c.images).toFixed(1)),
      timesMs: times.map((t) => t.toFixed(1)).join(' '),
    });
  }
  return results;
}
