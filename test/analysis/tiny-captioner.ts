// A tiny real captioner trained through the run store, for the analysis tests that need finished
// runs with decoded test captions: 40 generated scenes, a small CNN, a 16-wide decoder, greedy
// decoding. Runs of one root share the scenes and the feature cache.
import * as path from 'node:path';

import { resolveConfig } from '../../src/config';
import { experiment, type Run } from '../../src/tracking';
import { captionerJob } from '../../src/train/job';

export async function trainTinyCaptioner(root: string, name: string, options: { seed: number; hidden?: number; epochs?: number; patience?: number }): Promise<Run> {
  const config = resolveConfig('quick', {
    seed: options.seed,
    data: { dir: path.join(root, 'scenes'), scenes: { images: 40, size: 64, seed: 3, occlusion: 0, captionsPerImage: 5 } },
    encoder: { kind: 'small-cnn', inputSize: 64, normalisation: 'imagenet', cache: { dir: path.join(root, 'features'), dtype: 'float16', batchSize: 16 } },
    decoder: { hidden: options.hidden ?? 16, attention: 16 },
    words: { dim: 16 },
    train: { epochs: options.epochs ?? 2, batchSize: 16, ...(options.patience === undefined ? {} : { earlyStopping: { patience: options.patience } }) },
    decode: { beam: 1, maxLength: 12, lengthPenalty: 0 },
  });
  return experiment(await captionerJob(config, { log: null, name }), { root, log: () => {}, progress: 'none' });
}
