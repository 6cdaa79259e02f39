/**
 * Where the scale benchmark keeps its generated inputs for N images, and the shapes it
 * imitates: COCO's Karpathy split, ResNet-101 features at 256 px (an 8 x 8 x 2048 grid,
 * pooled to 14 x 14 on load), bert-base's 768-d vectors in the report's bidirectional mode.
 *
 *   const layout = scaleLayout('results/bench-scale', 4000);   // layout.split, layout.features, …
 */
import * as path from 'path';

import type { CachedEncoder } from '../../src/encoders/feature-cache';

export interface ScaleLayout {
  /** results/bench-scale/<N>. */
  dir: string;
  /** The Karpathy split file. */
  split: string;
  /** The feature cache root. */
  features: string;
  /** The BERT vector cache root. */
  bertCache: string;
  /** A bert-base-shaped BERT folder (random weights: its vectors are never computed, only read). */
  bert: string;
  /** A results root holding the synthetic finished runs. */
  results: string;
}

export function scaleLayout(root: string, images: number): ScaleLayout {
  const dir = path.join(root, String(images));
  return {
    dir,
    split: path.join(dir, 'dataset_coco.json'),
    features: path.join(dir, 'features'),
    bertCache: path.join(dir, 'bert-vectors'),
    bert: path.join(dir, 'bert-base-shaped'),
    results: path.join(dir, 'results'),
  };
}

/** ResNet-101 at 256 px as the paper profile uses it: its layer's native 8 x 8 grid, served pooled to 14 x 14. */
export const PAPER_ENCODER: CachedEncoder = {
  nativeId: 'bench-scale:resnet101@256:conv5_block3_out',
  layerGrid: [8, 8],
  grid: [14, 14],
  featureDim: 2048,
};

/** bert-base's width. */
export const BERT_WIDTH = 768;
/** The words' minimum count and the longest caption: the paper profile's. */
export const VOCABULARY = { minCount: 5, maxLength: 50 };

/** The stages, in order (stage.ts runs each in a process of its own). */
export const STAGES = ['dataset', 'bert-vectors', 'train', 'evaluate', 'runs-list', 'report'] as const;
/** Training steps the train stage times. */
export const TRAIN_STEPS = 300;
