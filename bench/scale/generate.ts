/**
 * Generates what the scale benchmark reads, for N images, once (each part is skipped when
 * it is complete): the COCO-shaped split file (coco-like.ts), ResNet-101-shaped features
 * written straight into the feature cache (8 x 8 x 2048 float16 per image, keyed by the
 * dataset's image identity: no image files), a bert-base-shaped BERT folder with random
 * weights and its bidirectional step inputs for every train and val caption written
 * straight into the vector cache (random 768-d vectors: the benchmark measures preparation's
 * memory and I/O, not BERT's speed), and 500 finished paper-length runs (synthetic-runs.ts).
 *
 *   await generateScaleInputs(scaleLayout('results/bench-scale', 4000), { images: 4000, log });
 */
import * as fs from 'fs';

import { createRng } from '../../src/common/random';
import { buildVocabulary } from '../../src/data/build-vocabulary';
import { captionRows, encodeCaptions } from '../../src/data/encoded-captions';
import { loadKarpathy } from '../../src/data/karpathy';
import { BertWordInputs } from '../../src/embeddings/bert/bert-word-inputs';
import type { BertConfig } from '../../src/embeddings/bert/config';
import { BertEmbedder } from '../../src/embeddings/bert/embedder';
import { writeBertFolder } from '../../src/embeddings/bert/hf-folder';
import { BertModel } from '../../src/embeddings/bert/model';
import { buildWordPieceVocabulary, countBertWords } from '../../src/embeddings/bert/wordpiece';
import { FeatureCache } from '../../src/encoders/feature-cache';
import { writeCocoLikeSplit } from './coco-like';
import { BERT_WIDTH, PAPER_ENCODER, type ScaleLayout, VOCABULARY } from './layout';
import { writeSyntheticRuns } from './synthetic-runs';

/** A pool of non-negative random values (post-ReLU-like) that entries take slices of: distinct enough, fast to make. */
function randomPool(size: number, seed: string): Float32Array {
  const rng = createRng(seed);
  const pool = new Float32Array(size);
  for (let i = 0; i < size; i++) pool[i] = -Math.log(1 - rng.next()) * 0.5;
  return pool;
}

function sliceOf(pool: Float32Array, length: number, rng: ReturnType<typeof createRng>): Float32Array {
  const start = rng.int(pool.length - length);
  return pool.subarray(start, start + length);
}

const DONE = '.complete';

async function once(marker: string, what: string, log: (line: string) => void, work: () => Promise<void>): Promise<void> {
  if (fs.existsSync(marker)) return;
  const started = performance.now();
  log(`generating ${what}`);
  await work();
  fs.writeFileSync(marker, new Date().toISOString() + '\n');
  log(`generated ${what} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

export async function generateScaleInputs(layout: ScaleLayout, options: { images: number; log: (line: string) => void }): Promise<void> {
  const { log } = options;
  fs.mkdirSync(layout.dir, { recursive: true });
  await writeCocoLikeSplit(layout.split, { images: options.images, seed: 1 });
  const dataset = loadKarpathy(layout.split, { imagesRoot: layout.dir, checkFiles: false });

  await once(`${layout.features}${DONE}`, `features of ${dataset.images.length} images (8 x 8 x 2048, float16)`, log, async () => {
    const cache = new FeatureCache(layout.features, PAPER_ENCODER, dataset);
    const [gh, gw] = PAPER_ENCODER.layerGrid;
    const size = gh * gw * PAPER_ENCODER.featureDim;
    const pool = randomPool(4 * size, 'features');
    const rng = createRng('feature slices');
    for (let i = 0; i < dataset.images.length; i++) await cache.write(cache.keyOf(i), sliceOf(pool, size, rng));
  });

  const vocab = buildVocabulary(dataset, VOCABULARY);
  await once(`${layout.bert}${DONE}`, 'a bert-base-shaped BERT folder (768 wide, 1 layer, random weights)', log, async () => {
    const pieces = buildWordPieceVocabulary(countBertWords(dataset.images.flatMap((image) => image.captions.map((c) => c.tokens))), { maxSize: 8000 });
    const config: BertConfig = { vocabSize: pieces.size, hiddenSize: BERT_WIDTH, numLayers: 1, numHeads: 12, intermediateSize: BERT_WIDTH, maxPositions: 64, typeVocabSize: 2, layerNormEps: 1e-12 };
    const model = new BertModel(config, 1);
    try {
      await writeBertFolder(layout.bert, { config, weights: model.weightValues(), vocabulary: pieces, notes: { purpose: 'scale benchmark: random weights, bert-base width' } });
    } finally {
      model.dispose();
    }
  });

  await once(`${layout.bertCache}${DONE}`, 'bidirectional BERT step inputs (768-d) of every train and val caption', log, async () => {
    const embedder = await BertEmbedder.load(layout.bert, { layer: 'last', alignment: 'sum', segmentId: 1, log: null });
    const words = await BertWordInputs.create(embedder, vocab, { mode: 'bidirectional', cacheDir: layout.bertCache, maxMemoryBytes: 0 });
    const pool = randomPool(64 * BERT_WIDTH, 'bert vectors');
    const rng = createRng('vector slices');
    for (const split of ['train', 'val'] as const) {
      for (const row of captionRows(encodeCaptions(dataset, vocab, split))) {
        const caption = words.wordsOf(row);
        await words.vectors.writeStepInputs(caption, sliceOf(pool, (caption.length + 1) * BERT_WIDTH, rng));
      }
    }
    await embedder.dispose();
  });

  await once(`${layout.results}${DONE}`, '500 finished paper-length runs', log, () => writeSyntheticRuns(layout.results, { runs: 500 }));
}
