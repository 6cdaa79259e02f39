// A worker recipe for data-parallel tests (src/train/data-parallel.ts): the tiny dataset and
// captioner of test/model/helpers.ts, built the same way in every worker thread.
import type { DecoderOptions } from '../../src/model/decoder';
import { Trainer, type TrainerOptions } from '../../src/train/trainer';
import { tinyCaptioner, tinyDataset, tinyInputs, tinyTrainerOptions } from '../model/helpers';

export interface TinyRecipe {
  decoder: Partial<DecoderOptions>;
  options: Partial<TrainerOptions>;
  cnn: boolean;
}

/** The tiny trainer of a recipe (the test's own trainer and every worker's). */
export function tinyTrainer(recipe: TinyRecipe): Trainer {
  const data = tinyDataset();
  const captioner = tinyCaptioner({ V: data.vocab.size, cnn: recipe.cnn, initRange: 0.5, seed: 3, ...recipe.decoder });
  return new Trainer(captioner, { captions: data.train, inputs: tinyInputs(recipe.cnn ? 'pixels' : 'features') }, tinyTrainerOptions({ batchSize: 6, seed: 3, ...recipe.options }));
}
