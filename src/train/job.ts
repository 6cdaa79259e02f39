/**
 * The captioner as a run-store training job: the run store (src/tracking) decides whether to
 * train, resume or load; this file says how to train one epoch, validate it, checkpoint it and
 * evaluate the result.
 *
 *   const run = await experiment(await captionerJob(resolveConfig('quick')));
 *   run.summary.metrics;   // val BLEU-4 (free-running) per epoch, test BLEU-1..4/ROUGE-L/CIDEr-D, attention correctness
 *
 * Each epoch: train (teacher forcing), validate free-running (BLEU-4, the early-stopping
 * metric) and teacher-forced (the objective, its cross-entropy part and the report's "BLEU",
 * labelled so), then close the epoch (lr decay on plateau, early stopping). Early stopping
 * ends the run in the run store (`ctx.stopEarly`): no later epoch is trained or recorded.
 * `evaluate` decodes the test split free-running with `config.decode` on the best epoch's
 * weights, and on scenes data measures attention correctness.
 *
 * Loss names: `loss` / `val_loss` are the training objective (cross-entropy per word plus
 * alpha_c times the doubly stochastic attention term); `cross_entropy` / `val_cross_entropy`
 * are the cross-entropy per word alone. With alpha_c = 0 the two are equal.
 */
import { initBackend } from '../compute/backend';
import { isMetricScore, type MetricEntry } from '../metrics';
import type { Captioner } from '../model/captioner';
import { type CaptionerConfig, identityConfig } from '../config';
import { sceneAnnotations } from '../data/scenes/annotations';
import { type AttentionCorrectness, attentionCorrectness, type AttentionItem } from '../model/attention-correctness';
import { evaluationSplit, recordEvaluation, type AttentionMap, type CaptionResult, type Evaluation, type MetricLabel, type Run, type RunMetric, type TrainingJob } from '../tracking';
import { freeRunningEvaluation, type FreeRunningResult, teacherForcedEvaluation } from './evaluate';
import { buildCaptioner, prepareData, type PreparedData, trainerOptions } from './setup';
import { guardSlowBackend } from './backend-guard';
import { resolveWorkers, stepGflop } from './data-parallel';
import { Trainer } from './trainer';
import { trainerCheckpoint, trainerSnapshot } from './trainer-state';

/** What the job keeps between epochs. */
export interface CaptionerState {
  data: PreparedData;
  captioner: Captioner;
  trainer: Trainer;
}

export interface CaptionerJobOptions {
  /** Readable prefix of the run id (default 'baseline'). */
  name?: string;
  /** Progress lines of data preparation (default stderr; null: silent). */
  log?: ((line: string) => void) | null;
  /**
   * 'train' (default), or 'decode': a job whose runs are only restored and decoded (an
   * evaluation of a finished run), which skips preparing the BERT teacher-forcing inputs.
   */
  purpose?: 'train' | 'decode';
}

/** Scores (not unavailable METEOR/SPICE entries) as run metrics. */
export function runMetricsOf(entries: readonly MetricEntry[]): RunMetric[] {
  return entries.filter(isMetricScore).map((m) => ({
    name: m.name,
    value: m.value,
    implementation: m.implementation,
    ...(m.split !== undefined ? { split: m.split } : {}),
    ...(m.protocol !== undefined ? { protocol: m.protocol } : {}),
    ...(m.beam !== undefined ? { beam: m.beam } : {}),
  }));
}

/** The files behind a free-running evaluation: COCO result captions and attention maps [T, Gh, Gw]. */
export function evaluationFiles(data: PreparedData, result: FreeRunningResult): { captions: CaptionResult[]; attention: AttentionMap[] } {
  const [gh, gw] = data.encoder.grid;
  return {
    captions: result.captions.map((c) => ({ image_id: c.imageId, caption: c.caption })),
    attention: result.captions.map((c) => ({
      imageId: c.imageId,
      words: data.vocab.decode(c.decoded.words),
      shape: [c.decoded.words.length, gh, gw],
      alphas: c.decoded.alphas, // [T, Gh * Gw], row-major = [T, Gh, Gw]
    })),
  };
}

/** Attention correctness of decoded captions of scene images (undefined for other data). */
export function sceneAttention(data: PreparedData, captions: FreeRunningResult['captions']): AttentionCorrectness | undefined {
  const items: AttentionItem[] = [];
  for (const c of captions) {
    const annotations = sceneAnnotations(data.dataset.images[c.image]);
    if (!annotations) return undefined;
    items.push({ words: data.vocab.decode(c.decoded.words), alphas: c.decoded.alphas, annotations });
  }
  return attentionCorrectness(items, { grid: data.encoder.grid });
}

/** Decodes a split free-running and returns its metrics (with attention correctness on scenes) and files. */
export async function evaluateSplit(
  state: CaptionerState,
  split: 'val' | 'test',
  decode: { beam: number; maxLength: number; lengthPenalty?: number; log?: ((line: string) => void) | null; runBeam: number },
): Promise<Evaluation & { result: FreeRunningResult }> {
  const { data, captioner } = state;
  const result = await freeRunningEvaluation(captioner, data, data.images[split], { split, ...decode });
  const metrics = runMetricsOf(result.metrics);
  const attention = sceneAttention(data, result.captions);
  if (attention) {
    const label = { split, protocol: 'free-running', beam: decode.beam, implementation: 'captioning-lab' };
    metrics.push({ name: 'attention-correctness', value: attention.meanAttention, ...label });
    metrics.push({ name: 'attention-box-area', value: attention.meanArea, ...label });
  }
  const files = evaluationFiles(data, result);
  const filedAs = evaluationSplit(split, decode.beam, decode.runBeam); // another beam than the run's own (decode.beam of its config): its own files
  return { result, metrics, captions: { [filedAs]: files.captions }, attention: { [filedAs]: files.attention } };
}

/**
 * Seconds of one training step of this config, timed on a throwaway captioner and trainer
 * (the run's own weights and optimiser are untouched): the mean of two steps after a warm-up.
 */
export async function timeTrainingStep(config: CaptionerConfig, data: PreparedData): Promise<number> {
  const captioner = buildCaptioner(config, data);
  const trainer = new Trainer(captioner, { captions: data.train, inputs: data.inputs }, trainerOptions(config));
  try {
    const plan = trainer.plan(0);
    await trainer.trainStep(plan[0], 0, 0); // warm-up: kernels compiled, weights packed
    const started = performance.now();
    for (let s = 1; s <= 2; s++) await trainer.trainStep(plan[s % plan.length], 0, s);
    return (performance.now() - started) / 2000;
  } finally {
    trainer.dispose();
    captioner.dispose();
  }
}

/** Builds the job: prepares the data first, because its fingerprints are part of the run id. */
export async function captionerJob(config: CaptionerConfig, options: CaptionerJobOptions = {}): Promise<TrainingJob<CaptionerState>> {
  const backend = await initBackend(); // before any tensor: the feature extraction below already uses tfjs
  const data = await prepareData(config, { log: options.log, purpose: options.purpose });
  const workers = resolveWorkers(config.train.workers, backend.tfjsBackend, stepGflopOf(config, data));
  const v = config.train.validation;
  const valImages = v.images === null ? data.images.val : data.images.val.slice(0, v.images);
  const labels: Record<string, MetricLabel> = {
    loss: { name: 'loss', split: 'train', protocol: 'teacher-forced', implementation: 'captioning-lab' },
    cross_entropy: { name: 'cross-entropy', split: 'train', protocol: 'teacher-forced', implementation: 'captioning-lab' },
    val_bleu4: { name: 'BLEU-4', split: 'val', protocol: 'free-running', beam: v.beam, implementation: 'coco-caption' },
    val_loss: { name: 'loss', split: 'val', protocol: 'teacher-forced', implementation: 'captioning-lab' },
    val_cross_entropy: { name: 'cross-entropy', split: 'val', protocol: 'teacher-forced', implementation: 'captioning-lab' },
    val_tf_bleu4: { name: 'BLEU-4', split: 'val', protocol: 'teacher-forced', implementation: 'coco-caption' },
  };
  let guarded = false;
  return {
    name: options.name ?? 'baseline',
    config: identityConfig(config),
    epochs: config.train.epochs,
    seed: config.seed,
    fingerprints: data.fingerprints,
    metricLabels: labels,
    best: { metric: 'val_bleu4', mode: 'max' },

    execution: { workers },

    init: () => {
      const captioner = buildCaptioner(config, data);
      const trainer = new Trainer(captioner, { captions: data.train, inputs: data.inputs }, trainerOptions(config));
      trainer.useWorkers(workers, { module: __filename, exportName: 'workerTrainer', argument: config });
      return { data, captioner, trainer };
    },

    epoch: async (state, ctx): Promise<Record<string, number>> => {
      const { trainer, captioner } = state;
      if (!guarded) {
        guarded = true; // once per attempt, before its first epoch: a long epoch on a slow, unforced backend is refused
        await guardSlowBackend(await initBackend(), trainer.plan(trainer.progress.epoch).length, () => timeTrainingStep(config, data));
      }
      ctx.setSteps(trainer.plan(trainer.progress.epoch).length);
      const record = await trainer.trainEpoch({ onStep: (p) => ctx.logStep({ loss: p.loss }) });
      const free = await freeRunningEvaluation(captioner, data, valImages, { split: 'val', beam: v.beam, maxLength: v.maxLength, log: ctx.log });
      const forced = await teacherForcedEvaluation(captioner, data, data.val, {
        split: 'val',
        batchSize: config.train.batchSize,
        alphaC: config.train.alphaC,
        attentionPenalty: config.train.attentionPenalty,
      });
      const decision = trainer.endEpoch({ improved: ctx.isImprovement(free.bleu4) });
      if (decision.stopped) {
        ctx.stopEarly(`val BLEU-4 (free-running, beam ${v.beam}) did not improve for ${config.train.earlyStopping.patience} epoch(s)`);
      }
      ctx.note(
        `${decision.decayed ? 'lr decayed; ' : ''}e.g. "${free.captions[0]?.caption ?? ''}"`,
      );
      return {
        loss: record.loss,
        cross_entropy: record.crossEntropy,
        attention_penalty: record.attention,
        lr: record.learningRate,
        val_bleu4: free.bleu4,
        val_loss: forced.loss,
        val_cross_entropy: forced.crossEntropy,
        val_tf_bleu4: forced.bleu4,
      };
    },

    saveCheckpoint: async (state, writer) => {
      const { state: json, arrays } = trainerCheckpoint(state.trainer.snapshot());
      await writer.saveArrays('trainer', arrays);
      writer.setState(json);
    },

    loadCheckpoint: async (state, reader) => {
      state.trainer.restore(trainerSnapshot(reader.state, await reader.loadArrays('trainer'), `checkpoint ${reader.dir}`));
    },

    evaluate: async (state, ctx) => {
      await ctx.restoreBest(); // the test split is decoded with the best epoch's weights
      const { result: _result, ...evaluation } = await evaluateSplit(state, 'test', { ...config.decode, runBeam: config.decode.beam, log: ctx.log });
      return evaluation;
    },

    dispose: (state) => {
      state.trainer.dispose(); // stops its data-parallel workers
      state.captioner.dispose();
    },
  };
}

/** The arithmetic of one training step of a config on its data, roughly (data-parallel.ts `stepGflop`): what 'auto' workers decide by. */
function stepGflopOf(config: CaptionerConfig, data: PreparedData): number {
  const probe = buildCaptioner(config, data);
  const weights = [...probe.decoder.variables.values()].reduce((n, v) => n + v.size, 0);
  probe.dispose();
  const { offsets, image } = data.train;
  const captions = offsets.length - 1;
  const tokensPerCaption = offsets[captions] / Math.max(1, captions) - 1; // predictions: ids less <start>
  const { imagesPerBatch, batchSize } = config.train;
  const captionsPerStep = imagesPerBatch === null ? batchSize : imagesPerBatch * (captions / Math.max(1, new Set(image).size));
  return stepGflop(weights, captionsPerStep * tokensPerCaption);
}

/**
 * A data-parallel worker's trainer of a config (data-parallel.ts starts it in a worker thread
 * with the backend already chosen): the same data, model and settings as the run's own, whose
 * inputs the run has prepared already (the worker finds them in the caches).
 */
export async function workerTrainer(config: CaptionerConfig): Promise<Trainer> {
  const data = await prepareData(config, { log: null });
  return new Trainer(buildCaptioner(config, data), { captions: data.train, inputs: data.inputs }, trainerOptions(config));
}

/**
 * The free-running metrics of a finished run for one split and beam size: read from its
 * summary when recorded, else decoded from the best checkpoint and recorded (so rerunning a
 * notebook cell does not decode again).
 */
export async function ensureEvaluation(
  run: Run,
  config: CaptionerConfig,
  settings: { split: 'val' | 'test'; beam: number },
): Promise<RunMetric[]> {
  const recorded = () =>
    run.summary.metrics.filter((m) => m.split === settings.split && m.protocol === 'free-running' && m.beam === settings.beam);
  if (recorded().some((m) => m.name === 'BLEU-4')) return recorded();
  const job = await captionerJob(config, { name: run.config.name, log: null, purpose: 'decode' });
  const state = await run.restore(job, 'best');
  try {
    const { result: _result, ...evaluation } = await evaluateSplit(state, settings.split, {
      beam: settings.beam,
      maxLength: config.decode.maxLength,
      lengthPenalty: config.decode.lengthPenalty,
      runBeam: config.decode.beam,
    });
    await recordEvaluation(run, evaluation);
  } finally {
    job.dispose?.(state);
  }
  return recorded();
}
