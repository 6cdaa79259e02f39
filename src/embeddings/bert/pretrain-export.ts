/**
 * The trained encoder of a pretraining as a transformers.js folder (hf-folder.ts: config.json,
 * tokenizer files, onnx/model.onnx), so that the project's own BERT loads through the same
 * path as `Xenova/bert-base-uncased`. The pretraining job writes it into its run folder
 * (`bertModelDir(run.dir)`) when training ends.
 *
 *   await exportPretrainedBert(state, bertModelDir(run.dir));
 *   const bert = await BertEmbedder.load(bertModelDir(run.dir));
 */
import { writeBertFolder } from './hf-folder';
import type { BertPretrainState } from './pretrain-mlm';

/**
 * Writes the trained encoder as a transformers.js folder, with the pretraining's facts in
 * config.json (`captioning_lab.pretraining`). Only facts of its content (settings, corpus,
 * epochs, steps, final losses), never its timing: config.json is part of the model's
 * fingerprint, and so of the ids of the runs that read its vectors, which must be the same
 * whenever the same pretraining is trained again.
 */
export async function exportPretrainedBert(state: BertPretrainState, modelDir: string): Promise<string> {
  const last = state.history[state.history.length - 1];
  await writeBertFolder(modelDir, {
    config: state.config,
    weights: state.model.weightValues(),
    vocabulary: state.vocabulary,
    notes: {
      pretraining: {
        corpus: state.corpus,
        settings: state.settings,
        epochs: state.history.length,
        steps: state.step,
        final: last ? { epoch: last.epoch, loss: last.loss, accuracy: last.accuracy, val_loss: last.val_loss ?? null, val_accuracy: last.val_accuracy ?? null } : null,
      },
    },
  });
  return modelDir;
}
