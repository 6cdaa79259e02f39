/**
 * Feature extraction speed: images per second through the quick profile's frozen encoder,
 * nsfwjs's MobileNetV2 cut at `block_12_add` at 128 px (8 x 8 x 96 grids), in batches of
 * 16 (the profile's cache.batchSize). Pixels are synthetic; decoding and resizing JPEGs
 * is not timed. Median of several batches after a warm-up.
 *
 *   npx tsx bench/run.ts features     # this benchmark only
 */
import * as tf from '@tensorflow/tfjs';

import { loadPretrainedEncoder } from '../src/encoders/pretrained';
import { median, seededValues, since, type BenchResult } from './timing';

const BATCH = 16;
const RUNS = 5;

export async function benchFeatures(): Promise<BenchResult[]> {
  const spec = { model: 'nsfwjs:mobilenet_v2', format: 'layers', layer: 'block_12_add', inputSize: 128, normalisation: 'minus-one-to-one' } as const;
  const encoder = await loadPretrainedEncoder(spec);
  const S = spec.inputSize;
  const pixels = tf.tensor4d(seededValues(BATCH * S * S * 3, 5), [BATCH, S, S, 3]); // [16, S, S, 3] in [-1, 1)
  const times: number[] = [];
  try {
    for (let r = 0; r <= RUNS; r++) {
      const start = process.hrtime.bigint();
      const grid = encoder.run(pixels); // [16, 8, 8, 96]
      grid.dataSync(); // the cache reads it back
      grid.dispose();
      if (r > 0) times.push(since(start)); // run 0 warms up
    }
  } finally {
    pixels.dispose();
    encoder.dispose();
  }
  const ms = median(times);
  return [{
    name: `features: MobileNetV2 ${spec.layer} @${S} px, batch ${BATCH}`,
    medianMs: ms,
    minMs: Math.min(...times),
    runs: times.length,
    imagesPerSecond: Number(((BATCH * 1000) / ms).toFixed(1)),
    timesMs: times.map((t) => t.toFixed(1)).join(' '),
  }];
}
