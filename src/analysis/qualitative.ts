/**
 * The report's qualitative figures, picked by score instead of by hand: the captions of
 * several models side by side on the same test images, the successes and the failures
 * chosen by each image's score (mean over the models), so that the choice is reproducible.
 *
 *   const picked = pickExamples(dataset, [{ label: 'baseline', run }, { label: 'BERT', run: bertRun }], { successes: 4, failures: 2 });
 *   captionComparisonFigure(await comparisonItems(dataset, picked.successes));
 *
 * Per-image scores are the COCO caption toolkit's (src/metrics), computed over the whole
 * split (CIDEr-D's document frequencies depend on the images scored together).
 */
import type { CaptionDataset } from '../data/dataset';
import { imagePath } from '../data/dataset';
import { imageDataUri } from '../data/images';
import { computeCaptionMetrics, type ImageId, type MetricFamily, type MetricName } from '../metrics';
import type { Run } from '../tracking';

export interface ScoredImage {
  /** Index into dataset.images. */
  image: number;
  imageId: ImageId;
  /** Mean of the models' per-image scores. */
  score: number;
  captions: { model: string; text: string; score: number }[];
  references: string[];
}

/** The metrics the in-process scorer computes per image. */
const SYNCHRONOUS_METRICS: readonly MetricName[] = ['BLEU-1', 'BLEU-2', 'BLEU-3', 'BLEU-4', 'ROUGE-L', 'CIDEr-D'];

/** The family to ask the scorer for to get a metric (BLEU-1..4 come from 'BLEU'). */
function familyOf(metric: MetricName): MetricFamily {
  return metric.startsWith('BLEU-') ? 'BLEU' : (metric as MetricFamily);
}

/** Every test image scored per model; sorted best first by the mean over models. */
export function scoreImages(dataset: Pick<CaptionDataset, 'images'>, models: readonly { label: string; run: Run }[], options: { split?: 'val' | 'test'; metric?: MetricName } = {}): ScoredImage[] {
  const split = options.split ?? 'test';
  const metric = options.metric ?? 'CIDEr-D';
  if (models.length === 0) throw new Error('scoreImages: no models');
  const indexOf = new Map<ImageId, number>(dataset.images.map((image, i) => [image.id, i]));
  const perModel = models.map(({ label, run }) => {
    const captions = run.captions(split);
    if (!captions || captions.length === 0) throw new Error(`run ${run.id} (${label}) has no ${split} captions; evaluate it first`);
    const hypotheses = new Map<ImageId, string>(captions.map((c) => [c.image_id, c.caption]));
    const references = new Map<ImageId, string[]>();
    for (const id of hypotheses.keys()) {
      const i = indexOf.get(id);
      if (i === undefined) throw new Error(`run ${run.id} (${label}): image id ${id} of its ${split} captions is not in the dataset`);
      references.set(id, dataset.images[i].captions.map((c) => c.raw));
    }
    const scores = computeCaptionMetrics(references, hypotheses, { split, protocol: 'free-running', metrics: [familyOf(metric)] });
    const score = new Map<ImageId, number>();
    for (const s of scores.perImage) {
      const value = s.scores[metric];
      if (value === undefined || !Number.isFinite(value)) {
        throw new Error(
          `scoreImages: no per-image ${metric} for image ${s.imageId} of run ${run.id} (${label}); ` +
            `per-image scores here come from the in-process scorer (${SYNCHRONOUS_METRICS.join(', ')}): METEOR and SPICE need their Java jars (scoreCaptions)`,
        );
      }
      score.set(s.imageId, value);
    }
    return { label, hypotheses, score };
  });
  const ids = [...perModel[0].hypotheses.keys()].filter((id) => perModel.every((m) => m.hypotheses.has(id)));
  const scored = ids.map((id) => {
    const image = indexOf.get(id)!;
    const captions = perModel.map((m) => ({ model: m.label, text: m.hypotheses.get(id)!, score: m.score.get(id)! }));
    return { image, imageId: id, score: captions.reduce((s, c) => s + c.score, 0) / captions.length, captions, references: dataset.images[image].captions.map((c) => c.raw) };
  });
  return scored.sort((a, b) => b.score - a.score || String(a.imageId).localeCompare(String(b.imageId)));
}

/** The best `successes` and the worst `failures` images by mean per-image score. */
export function pickExamples(
  dataset: Pick<CaptionDataset, 'images'>,
  models: readonly { label: string; run: Run }[],
  options: { successes?: number; failures?: number; split?: 'val' | 'test'; metric?: MetricName } = {},
): { successes: ScoredImage[]; failures: ScoredImage[]; metric: MetricName } {
  const metric = options.metric ?? 'CIDEr-D';
  const scored = scoreImages(dataset, models, { split: options.split, metric });
  const s = options.successes ?? 4;
  const f = options.failures ?? 2;
  return { successes: scored.slice(0, s), failures: scored.slice(Math.max(s, scored.length - f)).reverse(), metric };
}

/** One picked image with every model's caption and score: what viz's captionComparisonFigure draws. */
export interface ComparisonExample {
  /** The image as a data URI with its pixel size. */
  image: Awaited<ReturnType<typeof imageDataUri>>;
  title: string;
  captions: { model: string; text: string; note: string }[];
  references: string[];
}

/** The picked images as figure items (image, each model's caption with its score, references). */
export async function comparisonItems(dataset: CaptionDataset, images: readonly ScoredImage[], options: { metric?: string } = {}): Promise<ComparisonExample[]> {
  const metric = options.metric ?? 'CIDEr-D';
  const items: ComparisonExample[] = [];
  for (const s of images) {
    items.push({
      image: await imageDataUri(imagePath(dataset, dataset.images[s.image])),
      title: `image ${s.imageId}`,
      captions: s.captions.map((c) => ({ model: c.model, text: c.text, note: `${metric} ${c.score.toFixed(2)}` })),
      references: s.references,
    });
  }
  return items;
}
