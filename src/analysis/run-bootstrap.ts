/**
 * The paired bootstrap (bootstrap.ts) of finished runs: an arm's runs (its seeds) against its
 * reference's, on the captions each run decoded for a split and beam (captions-<split>.json
 * for the run's own beam, captions-<split>-beam<b>.json for another: tracking's
 * `evaluationSplit`) and the split's references in the dataset the runs were trained on,
 * tokenized as the coco-caption toolkit does, in the order the runs' evaluation scored them. So
 * the point estimate is exactly the difference of the runs' recorded scores (mean over seeds),
 * and the interval says how much of it the choice of test images could explain. Each run's
 * captions are checked against its recorded BLEU-4 first: captions that do not give the score
 * they were filed with (decoded again since, or edited) are an error, not a silent interval.
 *
 *   const [bleu4, cider] = await runsBootstrap(armRuns, referenceRuns);   // test split, beam 3, 1,000 resamples
 */
import { configFromIdentity } from '../config';
import { computeBleu, tokenizeCaptions } from '../metrics';
import { evaluationSplit, readCaptions, type Run } from '../tracking';
import { loadConfigDataset } from '../train/setup';
import type { PairedDifference } from './bootstrap';
import { pairedBootstrapThreads } from './bootstrap-threads';

export interface RunsBootstrapOptions {
  /** Default 'test'. */
  split?: 'val' | 'test';
  /** The free-running beam whose captions are compared (default each run's own, `decode.beam`). */
  beam?: number;
  /** The reference side's beam, when it differs (a beam-size study: the same runs at beam 1 against beam 3). */
  referenceBeam?: number;
  resamples?: number;
  seed?: number;
  /** Threads for the resamples (bootstrap-threads.ts; default 'auto': every core for COCO-size work, one for small). */
  threads?: number | 'auto';
}

/** The paired bootstrap of an arm's runs against the reference's on one split and beam. */
export async function runsBootstrap(arm: readonly Run[], reference: readonly Run[], options: RunsBootstrapOptions = {}): Promise<PairedDifference[]> {
  const split = options.split ?? 'test';
  if (arm.length === 0 || reference.length === 0) throw new Error('runsBootstrap: give at least one run on each side');
  const beamOf = (run: Run, side: 'arm' | 'reference') => (side === 'reference' ? options.referenceBeam : undefined) ?? options.beam ?? configFromIdentity(run.config.config).decode.beam;
  const captionsOf = (run: Run, side: 'arm' | 'reference') => {
    const filedAs = evaluationSplit(split, beamOf(run, side), configFromIdentity(run.config.config).decode.beam);
    const captions = readCaptions(run.dir, filedAs);
    if (!captions) throw new Error(`runsBootstrap: run ${run.id} has no ${split} captions for beam ${beamOf(run, side)} (captions-${filedAs}.json; evaluate it first)`);
    return new Map(captions.map((c) => [String(c.image_id), c.caption]));
  };
  const first = reference[0];
  const order = [...captionsOf(first, 'reference').keys()]; // the order its evaluation scored the images in
  const hypotheses = (runs: readonly Run[], side: 'arm' | 'reference') =>
    runs.map((run) => {
      const captions = captionsOf(run, side);
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
  const input = { references, arm: hypotheses(arm, 'arm'), reference: hypotheses(reference, 'reference') };
  arm.forEach((run, i) => checkRecordedBleu(run, split, beamOf(run, 'arm'), references, input.arm[i]));
  reference.forEach((run, i) => checkRecordedBleu(run, split, beamOf(run, 'reference'), references, input.reference[i]));
  return pairedBootstrapThreads(input, options);
}

/** The run's captions must give the BLEU-4 its summary records for them (the same coco-caption computation). */
function checkRecordedBleu(run: Run, split: string, beam: number, references: readonly (readonly string[])[], hypotheses: readonly string[]): void {
  const recorded = run.summary.metrics.find((m) => m.name === 'BLEU-4' && m.split === split && m.protocol === 'free-running' && m.beam === beam && m.implementation === 'coco-caption');
  if (!recorded) throw new Error(`runsBootstrap: run ${run.id} records no free-running ${split} BLEU-4 with beam ${beam} (summary.json)`);
  const computed = computeBleu(references, hypotheses).corpus[3];
  if (Math.abs(computed - recorded.value) > 1e-9) {
    throw new Error(`runsBootstrap: run ${run.id}'s ${split} captions for beam ${beam} give BLEU-4 ${computed}, but its summary.json records ${recorded.value}: the captions were replaced after that evaluation; evaluate the run again`);
  }
}
