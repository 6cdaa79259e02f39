/**
 * The quick profile's BERT: masked-LM pretraining on the generated scenes' training
 * captions (validation captions for the held-out loss), cached under the results folder.
 *
 *   const { modelDir } = await pretrainQuickBert();          // about 3 minutes the first time, then a cache hit
 *   const bert = await BertEmbedder.load(modelDir);          // the same code path as Xenova/bert-base-uncased
 *
 * The folder is `<results>/bert/scenes-quick-<key>`, the key hashing the settings and the
 * corpus, so other settings train into another folder instead of failing on this one.
 */
import * as path from 'path';

import type { CaptionDataset, Split } from '../../data/dataset';
import { loadKarpathy } from '../../data/karpathy';
import { ensureScenes, SCENES_QUICK } from '../../data/scenes/generate';
import { resultsRoot } from '../../tracking/paths';
import { corpusFingerprint, pretrainBert, pretrainKey, resolvePretrainSettings, type PretrainHooks, type PretrainOptions, type PretrainResult } from './pretrain';

/** The word tokens of every caption of a split. */
export function captionsOfSplit(dataset: CaptionDataset, split: Split): string[][] {
  return dataset.images.filter((image) => image.split === split).flatMap((image) => image.captions.map((c) => [...c.tokens]));
}

export interface QuickBertOptions extends Omit<PretrainOptions, 'captions' | 'validation'>, PretrainHooks {
  /** The scenes dataset folder (default `<results>/data/scenes-quick`, generated when missing). */
  scenesDir?: string;
  /** Parent of the model folder (default `<results>/bert`). */
  root?: string;
  log?: ((line: string) => void) | null;
}

/** Pretrains (or finds) the quick BERT on the quick scenes; returns its transformers.js folder and record. */
export async function pretrainQuickBert(options: QuickBertOptions = {}): Promise<PretrainResult> {
  const { scenesDir, root, log, onEpoch, signal, ...settings } = options;
  const scenes = await ensureScenes(scenesDir ?? path.join(resultsRoot(), 'data', 'scenes-quick'), SCENES_QUICK, { log });
  const dataset = loadKarpathy(scenes.datasetFile, { imagesRoot: scenes.imagesRoot, checkFiles: false });
  const captions = captionsOfSplit(dataset, 'train');
  const validation = captionsOfSplit(dataset, 'val');
  const key = pretrainKey(resolvePretrainSettings(settings), corpusFingerprint(captions, validation));
  const dir = path.join(root ?? path.join(resultsRoot(), 'bert'), `scenes-quick-${key}`);
  return pretrainBert({ ...settings, captions, validation, dir, log }, { onEpoch, signal });
}
