/**
 * Batches of encoded captions (and their images), in a seeded order, made one at a time.
 *
 *   const train = encodeCaptions(dataset, vocab, 'train');
 *   for (const batch of captionBatches(train, { batchSize: 32, seed: 1, epoch })) {
 *     batch.ids;        // Int32Array [B, T]: <start> words <end> <pad>…
 *     batch.images;     // Int32Array [B]: index into dataset.images
 *   }
 *   for await (const batch of imageCaptionBatches(dataset, train, { batchSize: 32, seed: 1, image: { size: 64 } })) {
 *     batch.pixels.data; // Float32Array [B, H, W, 3]
 *   }
 *
 * Memory: planning an epoch keeps only row numbers (4 bytes per caption); ids are padded
 * and images decoded for one batch at a time, when the consumer asks for it.
 * Order: rows shuffled by (seed, epoch); with `bucketByLength`, rows of similar length are
 * put together (less padding, shorter unrolled decoders) and the batches are shuffled by
 * the same seed, so which bucket comes next is random but reproducible.
 */
import * as tf from '@tensorflow/tfjs';

import { type CaptionDataset, imagePath } from './dataset';
import { type ImageBatch, type ImageOptions, loadImageBatch } from './images';
import { createRng, type Seed } from '../common/random';
import { type EncodedCaptions, rowCount, rowLength } from './encoded-captions';
import { PAD_ID } from './vocabulary';

export interface BatchOptions {
  batchSize: number;
  /** Seed of the order; the epoch is mixed in, so every epoch has its own order. */
  seed: Seed;
  /** Default 0. */
  epoch?: number;
  /** Default true; false keeps file order (evaluation). */
  shuffle?: boolean;
  /** Put captions of similar length in one batch (default false). */
  bucketByLength?: boolean;
  /** Leave out a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
}

/** One batch of captions: ids padded to the batch's longest caption. */
export interface CaptionBatch {
  /** Position of the batch in the epoch. */
  index: number;
  /** Rows of the encoded captions. */
  rows: Int32Array; // [B]
  /** Index into dataset.images of every caption. */
  images: Int32Array; // [B]
  /** Ids, row-major, `<pad>` (0) after `<end>`. */
  ids: Int32Array; // [B, T]
  /** Number of ids of every caption, `<start>` and `<end>` included. */
  lengths: Int32Array; // [B]
  shape: [number, number]; // [B, T]
}

function checkOptions(options: BatchOptions): void {
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new Error(`batches: batchSize must be a whole number >= 1, got ${options.batchSize}`);
  }
  if (options.epoch !== undefined && (!Number.isInteger(options.epoch) || options.epoch < 0)) {
    throw new Error(`batches: epoch must be a whole number >= 0, got ${options.epoch}`);
  }
}

/**
 * The rows of every batch of one epoch, in order. Linear time: lengths are bucketed with a
 * counting sort, never compared pairwise.
 */
export function planBatches(encoded: EncodedCaptions, options: BatchOptions): Int32Array[] {
  checkOptions(options);
  const n = rowCount(encoded);
  const rng = createRng(`batches:${String(options.seed)}:epoch:${options.epoch ?? 0}`);
  let order = Int32Array.from({ length: n }, (_, i) => i);
  if (options.shuffle ?? true) rng.shuffle(order);
  if (options.bucketByLength) {
    // Stable counting sort by length: rows of one length keep their shuffled order.
    let maxLength = 0;
    for (let r = 0; r < n; r++) maxLength = Math.max(maxLength, rowLength(encoded, r));
    const starts = new Int32Array(maxLength + 2);
    for (let r = 0; r < n; r++) starts[rowLength(encoded, r) + 1] += 1;
    for (let l = 1; l < starts.length; l++) starts[l] += starts[l - 1];
    const sorted = new Int32Array(n);
    for (const r of order) sorted[starts[rowLength(encoded, r)]++] = r;
    order = sorted;
  }
  const batches: Int32Array[] = [];
  for (let start = 0; start < n; start += options.batchSize) {
    const rows = order.subarray(start, Math.min(n, start + options.batchSize));
    if (rows.length < options.batchSize && options.dropLast) break;
    batches.push(rows.slice());
  }
  if (options.bucketByLength && (options.shuffle ?? true)) rng.shuffle(batches);
  return batches;
}

/** Builds the padded ids of some rows. */
export function makeCaptionBatch(encoded: EncodedCaptions, rows: Int32Array, index = 0): CaptionBatch {
  const B = rows.length;
  const lengths = new Int32Array(B); // [B]
  const images = new Int32Array(B); // [B]
  let T = 0;
  rows.forEach((r, b) => {
    lengths[b] = rowLength(encoded, r);
    images[b] = encoded.image[r];
    T = Math.max(T, lengths[b]);
  });
  const ids = new Int32Array(B * T).fill(PAD_ID); // [B, T]
  rows.forEach((r, b) => ids.set(encoded.ids.subarray(encoded.offsets[r], encoded.offsets[r + 1]), b * T));
  return { index, rows, images, ids, lengths, shape: [B, T] };
}

/** The batches of one epoch, made one at a time as they are consumed. */
export function* captionBatches(encoded: EncodedCaptions, options: BatchOptions): Generator<CaptionBatch> {
  const plan = planBatches(encoded, options);
  for (let i = 0; i < plan.length; i++) yield makeCaptionBatch(encoded, plan[i], i);
}

/** A caption batch with the pixels of each caption's image. */
export interface ImageCaptionBatch extends CaptionBatch {
  pixels: ImageBatch; // data: [B, H, W, 3]
}

/**
 * Caption batches with their images decoded, resized and normalised; one batch in memory
 * at a time (plus the next one being decoded when `prefetch` is on, the default). An image
 * shared by several captions of a batch is decoded once.
 */
export async function* imageCaptionBatches(
  dataset: Pick<CaptionDataset, 'images' | 'imagesRoot'>,
  encoded: EncodedCaptions,
  options: BatchOptions & { image: ImageOptions; prefetch?: boolean },
): AsyncGenerator<ImageCaptionBatch> {
  const plan = planBatches(encoded, options);
  const load = async (i: number): Promise<ImageCaptionBatch> => {
    const batch = makeCaptionBatch(encoded, plan[i], i);
    const unique = [...new Set(batch.images)];
    const decoded = await loadImageBatch(unique.map((k) => imagePath(dataset, dataset.images[k])), options.image);
    const [, H, W, C] = decoded.shape;
    const per = H * W * C;
    const slot = new Map(unique.map((k, u) => [k, u]));
    const data = new Float32Array(batch.images.length * per); // [B, H, W, 3]
    batch.images.forEach((k, b) => data.set(decoded.data.subarray(slot.get(k)! * per, (slot.get(k)! + 1) * per), b * per));
    const files = Array.from(batch.images, (k) => imagePath(dataset, dataset.images[k]));
    return { ...batch, pixels: { files, data, shape: [batch.images.length, H, W, C] } };
  };
  let pending: Promise<ImageCaptionBatch> | undefined = plan.length > 0 ? load(0) : undefined;
  for (let i = 0; i < plan.length; i++) {
    const current = await pending!;
    pending = i + 1 < plan.length && (options.prefetch ?? true) ? load(i + 1) : undefined;
    if (pending) pending.catch(() => undefined); // surfaced when awaited
    yield current;
    if (!pending && i + 1 < plan.length) pending = load(i + 1);
  }
}

/** A batch as tensors: ids [B, T] int32, lengths [B] int32, and pixels [B, H, W, 3] when loaded. */
export interface BatchTensors {
  ids: tf.Tensor2D; // [B, T]
  lengths: tf.Tensor1D; // [B]
  images?: tf.Tensor4D; // [B, H, W, 3]
}

/** Makes the tensors of a batch inside `tf.tidy`; the caller disposes them (`tf.dispose(Object.values(t))`). */
export function batchTensors(batch: CaptionBatch | ImageCaptionBatch): BatchTensors {
  return tf.tidy(() => {
    const ids = tf.tensor2d(batch.ids, batch.shape, 'int32'); // [B, T]
    const lengths = tf.tensor1d(batch.lengths, 'int32'); // [B]
    if (!('pixels' in batch)) return { ids, lengths };
    const images = tf.tensor4d(batch.pixels.data, batch.pixels.shape, 'float32'); // [B, H, W, 3]
    return { ids, lengths, images };
  });
}
