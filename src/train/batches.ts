/**
 * Batches of whole images: every caption of `imagesPerBatch` images per batch, images in a
 * seeded order per epoch. With a CNN trained from scratch, each image then goes through the
 * encoder once per batch for all of its captions (5 on the scenes and COCO), which cuts the
 * encoder's share of a step about fivefold; the decoder still sees every caption once per
 * epoch. (Plain caption batches, as the reference code draws them: src/data/batches.ts.)
 */
import { createRng, type Seed } from '../common/random';
import type { EncodedCaptions } from '../data/encoded-captions';

export function planImageBatches(encoded: EncodedCaptions, options: { imagesPerBatch: number; seed: Seed; epoch: number }): Int32Array[] {
  const { imagesPerBatch, seed, epoch } = options;
  if (!Number.isInteger(imagesPerBatch) || imagesPerBatch < 1) throw new Error(`image batches: imagesPerBatch must be a whole number >= 1, got ${imagesPerBatch}`);
  const rowsOf = new Map<number, number[]>();
  encoded.image.forEach((image, row) => {
    let rows = rowsOf.get(image);
    if (!rows) rowsOf.set(image, (rows = []));
    rows.push(row);
  });
  const images = createRng(`image-batches:${String(seed)}:epoch:${epoch}`).shuffle([...rowsOf.keys()]);
  const batches: Int32Array[] = [];
  for (let start = 0; start < images.length; start += imagesPerBatch) {
    batches.push(Int32Array.from(images.slice(start, start + imagesPerBatch).flatMap((i) => rowsOf.get(i)!)));
  }
  return batches;
}
