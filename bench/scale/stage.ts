/**
 * One stage of the scale benchmark, run in its own process by measure.ts (its peak memory
 * is its own): `tsx bench/scale/stage.ts <stage> '<json request>'`. Each stage runs the
 * project's real code over the generated COCO-shaped inputs and reports its time, peak
 * RSS and figures of its own.
 *
 *   dataset       load the split file, build the vocabulary, encode the captions
 *   bert-vectors  prepare the bidirectional BERT inputs of every train and val caption (all cached)
 *   train         300 training steps of a small decoder over paper-shaped features and BERT inputs
 *   evaluate      free-running evaluation (beam 3) of 1,000 test images with the coco-caption metrics
 *   runs-list     `captioning runs list` over 500 finished paper-length runs
 *   report        `npm run report` over them
 */
import * as path from 'path';

import { selectBackend } from '../../src/compute/backend';
import { resolveConfig } from '../../src/config';
import { buildVocabulary } from '../../src/data/build-vocabulary';
import { type CaptionDataset } from '../../src/data/dataset';
import { captionRows, encodeCaptions } from '../../src/data/encoded-captions';
import { loadKarpathy } from '../../src/data/karpathy';
import type { Vocabulary } from '../../src/data/vocabulary';
import { BertWordInputs } from '../../src/embeddings/bert/bert-word-inputs';
import { BertEmbedder } from '../../src/embeddings/bert/embedder';
import { FeatureCache } from '../../src/encoders/feature-cache';
import { DiskFeatureInputs } from '../../src/encoders/feature-inputs';
import { buildReport } from '../../src/report/build';
import { closeRenderer } from '../../src/viz/renderer';
import { listRuns } from '../../src/tracking';
import { freeRunningEvaluation } from '../../src/train/evaluate';
import { buildCaptioner, trainerOptions } from '../../src/train/setup';
import { Trainer } from '../../src/train/trainer';

import { EVALUATION_IMAGES } from './coco-like';
import { PAPER_ENCODER, scaleLayout, STAGES, TRAIN_STEPS, VOCABULARY } from './layout';
import { reportStage, type StageRequest } from './measure';


function loadData(file: string): { dataset: CaptionDataset; vocab: Vocabulary } {
  const dataset = loadKarpathy(file, { imagesRoot: path.dirname(file), checkFiles: false });
  return { dataset, vocab: buildVocabulary(dataset, VOCABULARY) };
}

/** The paper profile's config with a small decoder (the benchmark measures the data path, not the decoder). */
function smallPaperConfig(words: 'bert' | 'learned') {
  return resolveConfig('paper', { words: { kind: words, dim: 256 }, decoder: { hidden: 128, attention: 64 }, train: { batchSize: 32 }, decode: { beam: 3, maxLength: 20, lengthPenalty: 0 } });
}

async function bertInputs(layout: ReturnType<typeof scaleLayout>, vocab: Vocabulary): Promise<BertWordInputs> {
  const embedder = await BertEmbedder.load(layout.bert, { layer: 'last', alignment: 'sum', segmentId: 1, log: null });
  return BertWordInputs.create(embedder, vocab, { mode: 'bidirectional', cacheDir: layout.bertCache });
}

async function stage(name: string, request: StageRequest): Promise<Record<string, string | number>> {
  const layout = scaleLayout(request.dir, request.images);
  switch (name) {
    case 'dataset': {
      const { dataset, vocab } = loadData(layout.split);
      const train = encodeCaptions(dataset, vocab, 'train');
      const val = encodeCaptions(dataset, vocab, 'val');
      return { captions: train.offsets.length - 1 + val.offsets.length - 1, vocabulary: vocab.size };
    }
    case 'bert-vectors': {
      const { dataset, vocab } = loadData(layout.split);
      const rows = [...captionRows(encodeCaptions(dataset, vocab, 'train')), ...captionRows(encodeCaptions(dataset, vocab, 'val'))];
      const words = await bertInputs(layout, vocab);
      const { cached, computed } = await words.prepare(rows);
      if (computed !== 0) throw new Error(`bert-vectors: ${computed} captions were not in the generated cache`);
      return { captions: rows.length, cached };
    }
    case 'train': {
      await selectBackend({ log: null });
      const { dataset, vocab } = loadData(layout.split);
      const train = encodeCaptions(dataset, vocab, 'train');
      const words = await bertInputs(layout, vocab);
      await words.prepare(captionRows(train));
      const cache = new FeatureCache(layout.features, PAPER_ENCODER, dataset);
      const inputs = new DiskFeatureInputs(cache);
      const config = smallPaperConfig('bert');
      const encoder = { kind: 'pretrained' as const, id: PAPER_ENCODER.nativeId, grid: PAPER_ENCODER.grid, featureDim: PAPER_ENCODER.featureDim };
      const captioner = buildCaptioner(config, { vocab, encoder, words: { inputs: words, model: { source: layout.bert } } });
      const trainer = new Trainer(captioner, { captions: train, inputs }, trainerOptions(config));
      const plan: Int32Array[] = []; // 300 steps and a warm-up: as many epochs' batches as that takes
      for (let epoch = 0; plan.length < TRAIN_STEPS + 1; epoch++) plan.push(...trainer.plan(epoch));
      let wait = 0;
      await trainer.trainStep(plan[0], 0, 0, { next: plan[1] }); // warm-up: kernels compiled, weights packed
      const started = performance.now();
      for (let s = 1; s <= TRAIN_STEPS; s++) {
        const step = await trainer.trainStep(plan[s], 0, s, { next: plan[s + 1] });
        wait += step.inputWaitSeconds;
        if (s % 50 === 0) process.stdout.write(`step ${s}/${TRAIN_STEPS}: ${((performance.now() - started) / 1000 / s).toFixed(3)} s a step, input wait ${((100 * wait) / ((performance.now() - started) / 1000)).toFixed(1)}%\n`);
      }
      const seconds = (performance.now() - started) / 1000;
      trainer.dispose();
      captioner.dispose();
      return { steps: TRAIN_STEPS, secondsPerStep: Math.round((seconds / TRAIN_STEPS) * 1000) / 1000, inputWaitShare: Math.round((wait / seconds) * 10000) / 10000 };
    }
    case 'evaluate': {
      await selectBackend({ log: null });
      const { dataset, vocab } = loadData(layout.split);
      const cache = new FeatureCache(layout.features, PAPER_ENCODER, dataset);
      const inputs = new DiskFeatureInputs(cache);
      const config = smallPaperConfig('learned');
      const encoder = { kind: 'pretrained' as const, id: PAPER_ENCODER.nativeId, grid: PAPER_ENCODER.grid, featureDim: PAPER_ENCODER.featureDim };
      const captioner = buildCaptioner(config, { vocab, encoder, words: null });
      const test = dataset.images.flatMap((image, i) => (image.split === 'test' ? [i] : [])).slice(0, EVALUATION_IMAGES);
      const result = await freeRunningEvaluation(captioner, { dataset, vocab, inputs }, test, { split: 'test', beam: 3, maxLength: 20, log: null });
      captioner.dispose();
      return { images: test.length, bleu4: Math.round(result.bleu4 * 10000) / 10000 };
    }
    case 'runs-list': {
      const entries = listRuns({ root: layout.results });
      const finished = entries.filter((e) => e.status === 'finished' && !e.problem).length;
      if (finished !== entries.length) throw new Error(`runs-list: ${entries.length - finished} of ${entries.length} runs are not finished or damaged`);
      return { runs: entries.length };
    }
    case 'report': {
      const out = path.join(layout.dir, 'report');
      const report = await buildReport({ results: layout.results, out, log: (line) => process.stderr.write(line + '\n') });
      return { runs: report.runs ?? 0 };
    }
    default:
      throw new Error(`bench scale: unknown stage ${JSON.stringify(name)}; the stages are ${STAGES.join(', ')}`);
  }
}

async function main(): Promise<void> {
  const [name, raw] = process.argv.slice(2);
  const started = performance.now();
  const figures = await stage(name, JSON.parse(raw) as StageRequest);
  reportStage(name, started, figures);
  await closeRenderer(); // the report stage's browser would keep the process alive
  process.exit(0); // nor may anything else: the stage is over
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
