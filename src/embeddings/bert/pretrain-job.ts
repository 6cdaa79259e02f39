/**
 * BERT pretraining as a run of the project's run store (src/tracking): `experiment()` owns
 * the epoch loop, checkpoints, resume and records, so that the run gets an id (from the
 * resolved settings, epochs, seed and the corpus fingerprint), and a second call with the
 * same settings and corpus loads the finished run instead of training.
 *
 *   const run = await experiment(bertPretrainingJob({ captions, validation, epochs: 8 }));
 *   const modelDir = bertModelDir(run.dir);   // RUN/model: load with BertEmbedder.load(modelDir)
 *
 * One epoch is `trainEpoch` (pretrain-mlm.ts); checkpoints hold the weights and Adam's
 * moments as named tensors and the counters as checked JSON state (pretrain-checkpoint.ts);
 * the trained encoder is written as a transformers.js folder into the run folder by
 * `evaluate` (pretrain-export.ts), with the final validation masked-LM loss and accuracy as
 * summary metrics.
 */
import * as path from 'path';

import type { TrainingJob } from '../../tracking/job';
import { loadPretrainCheckpoint, savePretrainCheckpoint } from './pretrain-checkpoint';
import { exportPretrainedBert } from './pretrain-export';
import { evaluateMlm, initPretraining, trainEpoch, type BertPretrainState, type EpochMetrics } from './pretrain-mlm';
import { corpusFingerprint, resolvePretrainSettings, type PretrainOptions } from './pretrain-settings';

/** Where `evaluate` writes the model inside a run folder. */
export function bertModelDir(runDir: string): string {
  return path.join(runDir, 'model');
}

/** A TrainingJob (src/tracking/job.ts) that pretrains a BERT by masked LM. */
export function bertPretrainingJob(options: PretrainOptions & { name?: string }): TrainingJob<BertPretrainState> {
  const { name, ...rest } = options;
  const settings = resolvePretrainSettings(rest);
  const hasValidation = (rest.validation ?? []).some((c) => c.length > 0);
  return {
    name: name ?? 'bert-pretrain',
    config: { kind: 'bert-masked-lm', settings },
    epochs: settings.epochs,
    seed: settings.seed,
    fingerprints: { corpus: corpusFingerprint(rest.captions.filter((c) => c.length > 0), (rest.validation ?? []).filter((c) => c.length > 0)) },
    metricLabels: hasValidation
      ? { val_loss: { name: 'mlm-loss', split: 'val', protocol: 'masked-lm' }, val_accuracy: { name: 'mlm-accuracy', split: 'val', protocol: 'masked-lm' } }
      : { loss: { name: 'mlm-loss', split: 'train', protocol: 'masked-lm' } },
    ...(hasValidation ? { best: { metric: 'val_loss', mode: 'min' as const } } : {}),
    init: () => initPretraining(rest),
    epoch: async (state, ctx) => {
      ctx.setSteps(state.stepsPerEpoch);
      const m: EpochMetrics = await trainEpoch(state, ctx.epoch, ctx.epochSeed, { onStep: (v) => ctx.logStep(v) });
      const out: Record<string, number> = { loss: m.loss, accuracy: m.accuracy, lr: m.learningRate };
      if (m.val_loss !== undefined) out.val_loss = m.val_loss;
      if (m.val_accuracy !== undefined) out.val_accuracy = m.val_accuracy;
      return out;
    },
    saveCheckpoint: (state, writer) => savePretrainCheckpoint(state, writer),
    loadCheckpoint: (state, reader) => loadPretrainCheckpoint(state, reader),
    evaluate: async (state, ctx) => {
      await exportPretrainedBert(state, bertModelDir(ctx.dir));
      if (state.validationBatches.length === 0) return {};
      const v = evaluateMlm(state);
      return {
        metrics: [
          { name: 'mlm-loss', value: v.loss, split: 'val', protocol: 'masked-lm', implementation: 'captioning-lab' },
          { name: 'mlm-accuracy', value: v.accuracy, split: 'val', protocol: 'masked-lm', implementation: 'captioning-lab' },
        ],
      };
    },
    dispose: (state) => {
      state.model.dispose();
      state.adam.dispose();
    },
  };
}
