/**
 * BERT pretraining as a run of the project's run store (src/tracking): the same state and
 * epoch as `pretrainBert`, checkpointed by the store, so that the run gets an id, records,
 * resume and cache hits like any training.
 *
 *   const run = await experiment(bertPretrainingJob({ captions, validation, epochs: 8 }));
 *   const modelDir = bertModelDir(run.dir);   // RUN/model: load with BertEmbedder.load(modelDir)
 *
 * Checkpoints hold the weights and Adam's moments as named tensors (`weights`, `adam-m`,
 * `adam-v`) and the counters in the job state; the trained encoder is written as a
 * transformers.js folder into the run folder by `evaluate`, with the final validation
 * masked-LM loss and accuracy as summary metrics.
 */
import * as tf from '@tensorflow/tfjs';
import * as path from 'path';

import type { JsonValue } from '../../tracking/canonical';
import type { TrainingJob } from '../../tracking/job';
import { evaluateMlm, exportPretrainedBert, initPretraining, pretrainSnapshot, resolvePretrainSettings, restorePretrainSnapshot, trainEpoch, corpusFingerprint, type BertPretrainState, type EpochMetrics, type PretrainOptions } from './pretrain';

/** Where `evaluate` writes the model inside a run folder. */
export function bertModelDir(runDir: string): string {
  return path.join(runDir, 'model');
}

function toTensors(map: ReadonlyMap<string, Float32Array>, shapes: ReadonlyMap<string, number[]>): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = {};
  for (const [name, values] of map) out[name] = tf.tensor(values, shapes.get(name), 'float32');
  return out;
}

async function fromTensors(loaded: tf.NamedTensorMap): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of Object.entries(loaded)) out.set(name, (await t.data()) as Float32Array);
  tf.dispose(Object.values(loaded));
  return out;
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
    saveCheckpoint: async (state, writer) => {
      const snap = pretrainSnapshot(state);
      const shapes = new Map([...state.model.weights].map(([k, v]) => [k, v.shape]));
      for (const [entry, map] of [['weights', snap.weights], ['adam-m', snap.adamM], ['adam-v', snap.adamV]] as const) {
        const tensors = toTensors(map, shapes);
        try {
          await writer.saveTensors(entry, tensors);
        } finally {
          tf.dispose(Object.values(tensors));
        }
      }
      writer.setState({ step: snap.step, adamStep: snap.adamStep, history: snap.history as unknown as JsonValue });
    },
    loadCheckpoint: async (state, reader) => {
      const saved = reader.state as unknown as { step: number; adamStep: number; history: EpochMetrics[] } | undefined;
      if (!saved) throw new Error('bert pretraining checkpoint: no job state in the sidecar');
      restorePretrainSnapshot(state, {
        weights: await fromTensors(await reader.loadTensors('weights')),
        adamM: await fromTensors(await reader.loadTensors('adam-m')),
        adamV: await fromTensors(await reader.loadTensors('adam-v')),
        adamStep: saved.adamStep,
        step: saved.step,
        history: saved.history,
      });
    },
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
