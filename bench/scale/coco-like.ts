/**
 * A COCO-shaped Karpathy split file with N images x 5 captions, made up: the scale
 * benchmark's dataset. What matters for scale is its shape, so the captions follow COCO's
 * statistics, not its meaning: words drawn from a Zipf distribution (exponent 1) over a
 * 10,000-word vocabulary, lengths from 7 to 20 words with median 10 (COCO's training
 * captions: median 10, mean about 10.5). Splits: 1,000 images each for val and test (COCO's
 * Karpathy split has 5,000 each; the benchmark evaluates 1,000), the rest train. No image
 * files: features are written into the cache by the dataset's image identity.
 *
 *   writeCocoLikeSplit('results/bench-scale/4000/dataset_coco.json', { images: 4000, seed: 1 });
 */
import * as fs from 'fs';
import * as path from 'path';

import { writeFileAtomic } from '../../src/common/atomic-write';
import { createRng, type Rng } from '../../src/common/random';

export const VOCABULARY_WORDS = 10_000;
export const CAPTIONS_PER_IMAGE = 5;
export const EVALUATION_IMAGES = 1000;

/** P(length) for 7..20 words: COCO-like, median 10. */
const LENGTHS: readonly [number, number][] = [
  [7, 0.02], [8, 0.13], [9, 0.2], [10, 0.2], [11, 0.15], [12, 0.1], [13, 0.07],
  [14, 0.045], [15, 0.03], [16, 0.02], [17, 0.015], [18, 0.01], [19, 0.005], [20, 0.005],
];

const SYLLABLES = ['ba', 'ko', 'ri', 'ne', 'su', 'ta', 'mo', 'li', 'da', 've', 'pi', 'ro', 'ga', 'zu', 'fe', 'hi', 'no', 'ka', 'se', 'tu'];

/** The word of rank r (0 = most frequent): a made-up pronounceable word, distinct per rank. */
export function wordOfRank(r: number): string {
  let word = '';
  let n = r;
  do {
    word += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  } while (n > 0);
  return word;
}

/** Draws ranks with P(r) proportional to 1 / (r + 1). */
function zipfSampler(size: number): (rng: Rng) => number {
  const cumulative = new Float64Array(size);
  let total = 0;
  for (let r = 0; r < size; r++) cumulative[r] = total += 1 / (r + 1);
  return (rng) => {
    const u = rng.next() * total;
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function drawLength(rng: Rng): number {
  let u = rng.next();
  for (const [length, p] of LENGTHS) if ((u -= p) < 0) return length;
  return LENGTHS[LENGTHS.length - 1][0];
}

/** Writes the split file (atomically) unless one for the same size and seed exists; returns its path. */
export async function writeCocoLikeSplit(file: string, options: { images: number; seed: number }): Promise<string> {
  const { images, seed } = options;
  if (images < 2 * EVALUATION_IMAGES + 1) throw new Error(`bench scale: --images must be at least ${2 * EVALUATION_IMAGES + 1} (1,000 val + 1,000 test + train), got ${images}`);
  if (fs.existsSync(file)) return file;
  const rng = createRng(`coco-like:${seed}`);
  const draw = zipfSampler(VOCABULARY_WORDS);
  const records = [];
  let sentid = 0;
  for (let imgid = 0; imgid < images; imgid++) {
    const split = imgid < EVALUATION_IMAGES ? 'test' : imgid < 2 * EVALUATION_IMAGES ? 'val' : 'train';
    const sentences = [];
    for (let k = 0; k < CAPTIONS_PER_IMAGE; k++) {
      const tokens = Array.from({ length: drawLength(rng) }, () => wordOfRank(draw(rng)));
      sentences.push({ tokens, raw: tokens.join(' ') + '.', imgid, sentid: sentid++ });
    }
    const cocoid = 100_000 + imgid;
    records.push({ filepath: 'train2014', filename: `COCO_train2014_${String(cocoid).padStart(12, '0')}.jpg`, imgid, split, cocoid, sentids: sentences.map((s) => s.sentid), sentences });
  }
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify({ dataset: 'coco', images: records }));
  return file;
}
