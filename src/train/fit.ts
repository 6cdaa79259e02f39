/**
 * A whole training run from a config, for scripts and notebooks until the run store
 * (src/tracking) drives the same pieces epoch by epoch:
 *
 *   const result = await trainCaptioner(resolveConfig('quick'), { log: console.log });
 *   result.history;   // per epoch: train loss, validation BLEU-4 (free-running) and teacher-forced loss/BLEU
 *   result.test;      // free-running test scores with config.decode's beam, on the best epoch's weights
 *
 * Per epoch: train (trainer.ts), validate free-running (the early-stopping metric) and
 * teacher-forced (logged, labelled), close the epoch (lr decay, early stopping), and write
 * a checkpoint when `checkpointDir` is given; an existing checkpoint there is resumed.
 */
import * as fs from 'fs';

import { sceneAnnotations } from '../data/scenes/annotations';
import type { MetricEntry } from '../metrics';
import { type AttentionCorrectness, attentionCorrectness, type AttentionItem } from '../model/attention-correctness';
import type { Captioner } from '../model/captioner';
import type { CaptionerConfig } from '../model/config';
import { type CheckpointMeta, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { freeRunningEvaluation, type FreeRunningResult, teacherForcedEvaluation } from './evaluate';
import { buildCaptioner, prepareData, type PreparedData, trainerOptions } from './setup';
import { type EpochRecord, type StepProgress, Trainer } from './trainer';

export interface EpochReport extends EpochRecord {
  /** Free-running validation BLEU-4 (the early-stopping metric). */
  valBleu4: number;
  /** Teacher-forced validation loss, cross-entropy and "BLEU-4" (the report's protocol). */
  valLoss: number;
  valCrossEntropy: number;
  valTeacherForcedBleu4: number;
  /** Seconds spent validating. */
  validationSeconds: number;
  samples: string[];
}

export interface TrainResult {
  config: CaptionerConfig;
  data: PreparedData;
  captioner: Captioner;
  trainer: Trainer;
  history: EpochReport[];
  /** Free-running scores of the test split with config.decode (best epoch's weights). */
  test: FreeRunningResult;
  /** On the scenes data: attention correctness of the test captions. */
  attention?: AttentionCorrectness;
  seconds: { prepare: number; train: number; total: number };
}

export interface TrainCaptionerOptions {
  log?: ((line: string) => void) | null;
  onStep?: (p: StepProgress) => void;
  onEpoch?: (r: EpochReport) => void;
  /** Write a checkpoint here after every epoch and resume from it when present. */
  checkpointDir?: string;
  /** Stop after this many epochs in this call (the run can be resumed from its checkpoint). */
  stopAfter?: number;
  /** Skip the test evaluation. */
  skipTest?: boolean;
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

function bleu4Of(metrics: MetricEntry[]): number {
  const m = metrics.find((x) => x.name === 'BLEU-4');
  return m && 'value' in m ? m.value : 0;
}

export async function trainCaptioner(config: CaptionerConfig, options: TrainCaptionerOptions = {}): Promise<TrainResult> {
  const log = options.log === undefined ? (line: string) => process.stderr.write(line + '\n') : options.log;
  const started = Date.now();
  const data = await prepareData(config, { log });
  const prepared = Date.now();
  const captioner = buildCaptioner(config, data);
  const trainer = new Trainer(captioner, { captions: data.train, inputs: data.inputs }, trainerOptions(config));
  const history: EpochReport[] = [];
  if (options.checkpointDir && fs.existsSync(options.checkpointDir)) {
    const { snapshot, meta } = await loadCheckpoint(options.checkpointDir);
    if (JSON.stringify(meta.config) !== JSON.stringify(config)) throw new Error(`checkpoint ${options.checkpointDir} was trained with another config; remove it or use another folder`);
    trainer.restore(snapshot);
    history.push(...((meta.extra?.history as EpochReport[] | undefined) ?? []));
    if (log) log(`resumed from ${options.checkpointDir} after epoch ${trainer.progress.epoch}`);
  }
  const v = config.train.validation;
  const valImages = v.images === null ? data.images.val : data.images.val.slice(0, v.images);
  let epochsThisCall = 0;
  while (!trainer.progress.stopped && trainer.progress.epoch < config.train.epochs && (options.stopAfter === undefined || epochsThisCall < options.stopAfter)) {
    const record = await trainer.trainEpoch({
      onStep: (p) => {
        options.onStep?.(p);
        if (log && (p.step % 25 === 0 || p.step === p.steps)) log(`epoch ${p.epoch + 1} step ${p.step}/${p.steps} loss ${p.loss.toFixed(3)} (${p.secondsPerStep.toFixed(2)} s/step, ETA ${Math.round(p.etaSeconds)} s)`);
      },
    });
    const t0 = Date.now();
    const free = await freeRunningEvaluation(captioner, data, valImages, { split: 'val', beam: v.beam, maxLength: v.maxLength });
    const forced = await teacherForcedEvaluation(captioner, data, data.val, { split: 'val', batchSize: config.train.batchSize, alphaC: config.train.alphaC, attentionPenalty: config.train.attentionPenalty });
    const decision = trainer.endEpoch({ metric: free.bleu4 });
    const report: EpochReport = {
      ...record,
      metric: free.bleu4,
      valBleu4: free.bleu4,
      valLoss: forced.loss,
      valCrossEntropy: forced.crossEntropy,
      valTeacherForcedBleu4: bleu4Of(forced.metrics),
      validationSeconds: (Date.now() - t0) / 1000,
      samples: free.captions.slice(0, 3).map((c) => c.caption),
    };
    history.push(report);
    options.onEpoch?.(report);
    if (log) {
      log(
        `epoch ${record.epoch + 1}: train loss ${record.loss.toFixed(3)} (CE ${record.crossEntropy.toFixed(3)}), ${record.seconds.toFixed(0)} s; ` +
          `val BLEU-4 free-running ${(report.valBleu4 * 100).toFixed(1)} (beam ${v.beam}), teacher-forced loss ${report.valLoss.toFixed(3)} (CE ${report.valCrossEntropy.toFixed(3)}) BLEU-4 ${(report.valTeacherForcedBleu4 * 100).toFixed(1)}; ` +
          `${decision.improved ? 'best so far' : `${trainer.progress.epochsWithoutImprovement} epoch(s) without improvement`}${decision.decayed ? ', lr decayed' : ''}${decision.stopped ? ', early stop' : ''}`,
      );
      log(`  e.g. "${report.samples.join('" | "')}"`);
    }
    if (options.checkpointDir) {
      const meta: CheckpointMeta = { config, fingerprints: data.fingerprints, extra: { history } };
      await saveCheckpoint(options.checkpointDir, trainer.snapshot(), meta);
    }
    epochsThisCall += 1;
  }
  const trained = Date.now();
  trainer.restoreBest();
  let test: FreeRunningResult = { metrics: [], bleu4: 0, captions: [] };
  let attention: AttentionCorrectness | undefined;
  if (!options.skipTest) {
    const d = config.decode;
    test = await freeRunningEvaluation(captioner, data, data.images.test, { split: 'test', beam: d.beam, maxLength: d.maxLength, lengthPenalty: d.lengthPenalty });
    attention = sceneAttention(data, test.captions);
    if (log) log(`test: BLEU-4 ${(test.bleu4 * 100).toFixed(1)} (free-running, beam ${d.beam})${attention ? `; attention correctness ${attention.meanAttention.toFixed(3)} vs box area ${attention.meanArea.toFixed(3)} (x${attention.ratio.toFixed(2)})` : ''}`);
  }
  return {
    config,
    data,
    captioner,
    trainer,
    history,
    test,
    ...(attention ? { attention } : {}),
    seconds: { prepare: (prepared - started) / 1000, train: (trained - prepared) / 1000, total: (Date.now() - started) / 1000 },
  };
}
