/**
 * Dropout of teacher forcing's stacked hidden states [N, H], with masks that belong to the
 * captions: unit j of a caption's step t is kept or dropped by a hash of (seed, the caption's
 * key, t, j), not by the place the caption takes in the batch. So a caption sees the same
 * mask whichever batch shard holds it, and W data-parallel workers train what one worker
 * trains (src/train/data-parallel.ts). Kept units are scaled by 1 / (1 - rate) (inverted
 * dropout, as tf.dropout); the seed changes every step (trainer.ts derives it from the run's
 * seed, the epoch and the step).
 */
import * as tf from '@tensorflow/tfjs';

import type { TeacherBatch } from './captioner';

/** A 32-bit integer mix (murmur3's finaliser). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The mask [N, H] of a batch's real positions (values 0 or 1 / (1 - rate)), in the order of `batch.realIndex`. */
export function dropoutMask(batch: TeacherBatch, H: number, rate: number, seed: number): Float32Array {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: rate must be in [0, 1), got ${rate}`);
  const N = batch.realIndex.length;
  const mask = new Float32Array(N * H);
  const keep = 1 / (1 - rate);
  const threshold = rate * 2 ** 32; // a unit is dropped when its hash is below rate * 2^32
  for (let n = 0; n < N; n++) {
    const t = Math.floor(batch.realIndex[n] / batch.B);
    const key = batch.keys[batch.realIndex[n] % batch.B];
    const row = mix32(mix32(mix32(seed) ^ Math.imul(key + 1, 0x9e3779b1)) ^ Math.imul(t + 1, 0x27d4eb2f));
    for (let j = 0; j < H; j++) mask[n * H + j] = mix32(row ^ Math.imul(j + 1, 0x165667b1)) < threshold ? 0 : keep;
  }
  return mask;
}

/** hidden [N, H] with the batch's dropout applied (rate 0: unchanged). */
export function captionDropout(hidden: tf.Tensor2D, batch: TeacherBatch, rate: number, seed: number): tf.Tensor2D {
  if (rate === 0) return hidden;
  const [N, H] = hidden.shape;
  return tf.tidy(() => hidden.mul(tf.tensor2d(dropoutMask(batch, H, rate, seed), [N, H])) as tf.Tensor2D);
}
