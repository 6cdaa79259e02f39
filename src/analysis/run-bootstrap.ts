/**
 * The paired bootstrap (bootstrap.ts) of finished runs: an arm's runs (its seeds) against its
 * reference's, on the captions each run decoded for a split (captions-<split>.json, from the
 * beam its evaluation used) and the split's references in the dataset the runs were trained on,
 * tokenized as the coco-caption toolkit does, in the order the runs' evaluation scored them. So
 * the point estimate is exactly the difference of the runs' recorded scores (mean over seeds),
 * and the interval says how much of it the choice of test images could explain.
 *
 *   const [bleu4, cider] = await runsBootstrap(armRuns, referenceRuns);   // test split, 1,000 resamples
 */
import { configFromIdentity } from '../config';
import { tokenizeCaptions } from '../metrics';
import { readCaptions, type Run } from '../tracking';
import { loadConfigDataset } from '../train/setup';
import { pairedBootstrap, type PairedDifference } from './bootstrap';

/** The paired bootstrap of an arm's runs against the reference's on one split (default test). */
export async function runsBootstrap(arm: readonly Run[], reference: readonly Run[], options: { split?: string; resamples?: number; seed?: number } = {}): Promise<PairedDifference[]> {
  const split = options.split ?? 'test';
  if (arm.length === 0 || reference.length === 0) throw new Error('runsBootstrap: give at least one run on each side');
  const captionsOf = (run: Run) => {
    const captions = readCaptions(run.dir, split);
    if (!captions) throw new Error(`runsBootstrap: run ${run.id} has no captions for the ${split} split (captions-${split}.json; evaluate it first)`);
    return new Map(captions.map((c) => [String(c.image_id), c.caption]));
  };
  const first = reference[0];
  const order = [...captionsOf(first).keys()]; // the order its evaluation scored the images in
  const hypotheses = (runs: readonly Run[]) =>
    runs.map((run) => {
      const captions = captionsOf(run);
      const missing = order.filter((id) => !captions.has(id));
      if (missing.length > 0 || captions.size !== order.length) {
        throw new Error(`runsBootstrap: run ${run.id} decoded other ${split} images than run ${first.id} (${captions.size} vs ${order.length}; e.g. ${missing.slice(0, 3).join(', ') || 'extra ones'})`);
      }
      return tokenizeCaptions(order.map((id) => captions.get(id)!));
    });
  const dataset = await loadConfigDataset(configFromIdentity(first.config.config), { log: null });
  const referencesById = new Map(dataset.images.map((image) => [String(image.id), image.captions.map((c) => c.raw)]));
  const references = order.map((id) => {
    const refs = referencesById.get(id);
    if (!refs) throw new Error(`runsBootstrap: image ${id} of run ${first.id}'s ${split} captions is not in its dataset (${dataset.file})`);
    return tokenizeCaptions(refs);
  });
  return pairedBootstrap({ references, arm: hypotheses(arm), reference: hypotheses(reference) }, options);
}
