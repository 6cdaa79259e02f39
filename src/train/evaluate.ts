/**
 * Evaluation of a captioner on a split, under the two protocols kept apart:
 *
 * - free-running: captions decoded from the image alone (greedy or beam search), scored
 *   with the COCO caption toolkit's BLEU-1..4, ROUGE-L and CIDEr-D (src/metrics) against
 *   all reference captions of each image. This is what early stopping watches.
 * - teacher-forced: the loss of the reference captions (the same function as training,
 *   dropout off), and the report's "BLEU": each reference caption's per-step argmax given
 *   the true previous words, scored per caption against all references of its image.
 *   Labelled `protocol: 'teacher-forced'`; it is not comparable to free-running BLEU.
 */
import * as tf from '@tensorflow/tfjs';

import { makeCaptionBatch, planBatches } from '../data/batches';
import type { CaptionDataset } from '../data/dataset';
import type { EncodedCaptions } from '../data/encoded-captions';
import { END_ID, type Vocabulary } from '../data/vocabulary';
import { type ImageInputs, inputTensor } from '../encoders/inputs';
import { computeCaptionMetrics, type ImageId, type MetricEntry, isMetricScore } from '../metrics';
import { type Captioner, teacherBatch } from '../model/captioner';
import { beamSearch } from '../model/beam-search';
import type { DecodedCaption } from '../model/decode-step';
import { greedyDecode } from '../model/greedy-decode';
import { type ProgressMode, phaseProgress } from '../common/phase-progress';
import type { AttentionPenaltyReduction } from '../config';
import { captionLoss } from './loss';

export interface DecodeSettings {
  /** 1: greedy decoding; more: beam search. */
  beam: number;
  maxLength: number;
  lengthPenalty?: number;
  /** Images decoded per call (default: `decodeBatchSize`). */
  batchSize?: number;
}

/** What one decoding call may hold of encoded rows (features and their attention projection, every beam). */
export const DECODE_BATCH_BYTES = 256 * 2 ** 20;

/**
 * Images decoded per call by default: as many as keep the call's encoded rows (images x
 * beams, each [P, D + A] float32) under DECODE_BATCH_BYTES, so that a small model decodes a
 * whole validation split in one batched search (fewer, larger kernels) and a large one stays
 * within memory: the quick profile (64 x (96 + 128), beam 3) takes about 4,900 images per
 * call, the paper profile (196 x (2048 + 512)) about 40. 50 for pixel inputs (P unknown
 * before the CNN).
 */
export function decodeBatchSize(captioner: Captioner, inputs: ImageInputs, beam: number): number {
  if (inputs.kind !== 'features') return 50;
  const [P] = inputs.shape;
  const { featureDim: D, attentionSize: A } = captioner.decoder.options;
  return Math.max(1, Math.floor(DECODE_BATCH_BYTES / (beam * P * (D + A) * 4)));
}

/** Free-running captions of some images (indices into dataset.images), in their order. */
export async function decodeImages(captioner: Captioner, inputs: ImageInputs, images: readonly number[], settings: DecodeSettings): Promise<DecodedCaption[]> {
  const batchSize = settings.batchSize ?? decodeBatchSize(captioner, inputs, settings.beam);
  const out: DecodedCaption[] = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const x = await inputTensor(inputs, images.slice(start, start + batchSize));
    try {
      const decoded =
        settings.beam === 1
          ? await greedyDecode(captioner, x, { maxLength: settings.maxLength })
          : await beamSearch(captioner, x, { beam: settings.beam, maxLength: settings.maxLength, lengthPenalty: settings.lengthPenalty ?? 0 });
      out.push(...decoded);
    } finally {
      x.dispose();
    }
  }
  return out;
}

/** The raw reference captions of some images, keyed by image id, in the given order. */
export function referencesOf(dataset: Pick<CaptionDataset, 'images'>, images: readonly number[]): Map<ImageId, string[]> {
  return new Map(images.map((i) => [dataset.images[i].id, dataset.images[i].captions.map((c) => c.raw)]));
}

export interface FreeRunningResult {
  metrics: MetricEntry[];
  /** BLEU-4 (0-1), for early stopping. */
  bleu4: number;
  captions: { image: number; imageId: number; caption: string; decoded: DecodedCaption }[];
}

/** Decodes some images and scores the captions (BLEU-1..4, ROUGE-L, CIDEr-D; coco-caption). */
export async function freeRunningEvaluation(
  captioner: Captioner,
  data: { dataset: Pick<CaptionDataset, 'images'>; vocab: Vocabulary; inputs: ImageInputs },
  images: readonly number[],
  settings: DecodeSettings & {
    split: string;
    /** Progress lines (images/s, ETA; src/common/phase-progress.ts), default stderr; null: silent. */
    log?: ((line: string) => void) | null;
    progress?: ProgressMode;
  },
): Promise<FreeRunningResult> {
  // Decoded a batch at a time here, so that progress shows while it runs.
  const batchSize = settings.batchSize ?? decodeBatchSize(captioner, data.inputs, settings.beam);
  const label = `decoding ${settings.split} (${settings.beam === 1 ? 'greedy' : `beam ${settings.beam}`})`;
  const progress = phaseProgress({ label, total: images.length, unit: 'images', log: images.length > 0 ? settings.log : null, mode: settings.progress });
  const decoded: DecodedCaption[] = [];
  try {
    for (let start = 0; start < images.length; start += batchSize) {
      decoded.push(...(await decodeImages(captioner, data.inputs, images.slice(start, start + batchSize), settings)));
      progress.tick(Math.min(batchSize, images.length - start));
    }
  } catch (error) {
    progress.end();
    throw error;
  }
  progress.done();
  const captions = images.map((image, k) => ({ image, imageId: data.dataset.images[image].id, caption: data.vocab.decode(decoded[k].words).join(' '), decoded: decoded[k] }));
  const hypotheses = new Map<ImageId, string>(captions.map((c) => [c.imageId, c.caption]));
  const scores = computeCaptionMetrics(referencesOf(data.dataset, images), hypotheses, { split: settings.split, protocol: 'free-running', beam: settings.beam, metrics: ['BLEU', 'ROUGE-L', 'CIDEr-D'] });
  return { metrics: scores.metrics, bleu4: requiredBleu4(scores.metrics, `free-running ${settings.split} (${images.length} images)`), captions };
}

/**
 * BLEU-4 from scored metrics; an error naming the evaluation when the scorer gave none (an
 * empty split, or no hypothesis): early stopping must never read a missing score as 0.
 */
export function requiredBleu4(metrics: readonly MetricEntry[], what: string): number {
  const bleu4 = metrics.find((m) => m.name === 'BLEU-4');
  if (!bleu4) throw new Error(`${what}: the scorer returned no BLEU-4 (metrics: ${metrics.map((m) => m.name).join(', ') || 'none'})`);
  if (!isMetricScore(bleu4)) throw new Error(`${what}: BLEU-4 is unavailable (${JSON.stringify(bleu4)})`);
  return bleu4.value;
}

export interface TeacherForcedResult {
  /** Mean loss per batch (cross-entropy + alpha_c * attention term) and its parts. */
  loss: number;
  crossEntropy: number;
  attention: number;
  /** The report's teacher-forced BLEU (labelled so). */
  metrics: MetricEntry[];
  bleu4: number;
}

/** Teacher-forced loss and "BLEU" of the captions of a split (dropout off). */
export async function teacherForcedEvaluation(
  captioner: Captioner,
  data: { dataset: Pick<CaptionDataset, 'images'>; vocab: Vocabulary; inputs: ImageInputs },
  captions: EncodedCaptions,
  settings: { split: string; batchSize: number; alphaC: number; attentionPenalty: AttentionPenaltyReduction },
): Promise<TeacherForcedResult> {
  const plan = planBatches(captions, { batchSize: settings.batchSize, seed: 0, shuffle: false });
  let [loss, crossEntropy, attention, tokens] = [0, 0, 0, 0];
  const hypotheses = new Map<ImageId, string>();
  const references = new Map<ImageId, string[]>();
  for (const rows of plan) {
    const cb = makeCaptionBatch(captions, rows);
    const batch = teacherBatch(cb.ids, cb.lengths, cb.shape[1], cb.images);
    const x = await inputTensor(data.inputs, batch.uniqueImages);
    const [l, ce, att, argmax] = tf.tidy(() => {
      const out = captionLoss(captioner, x, batch, { alphaC: settings.alphaC, attentionPenalty: settings.attentionPenalty, dropout: 0 });
      return [out.loss, out.crossEntropy, out.attention, out.logits.argMax(1)];
    });
    x.dispose();
    const n = batch.targets.length;
    loss += l.dataSync()[0] * n;
    crossEntropy += ce.dataSync()[0] * n;
    attention += att.dataSync()[0] * n;
    tokens += n;
    const predicted = argmax.dataSync(); // [N] in step order
    tf.dispose([l, ce, att, argmax]);
    // Rebuild each caption's argmax sequence: real position k is (step t, sorted row s).
    const words: number[][] = Array.from({ length: batch.B }, () => []);
    for (let k = 0; k < batch.realIndex.length; k++) words[batch.realIndex[k] % batch.B].push(predicted[k]);
    words.forEach((w, s) => {
      const b = batch.order[s];
      const row = rows[b];
      const image = captions.image[row];
      const cut = w.indexOf(END_ID);
      const key = `${data.dataset.images[image].id}#${captions.caption[row]}`;
      hypotheses.set(key, data.vocab.decode(cut < 0 ? w : w.slice(0, cut)).join(' '));
      references.set(key, data.dataset.images[image].captions.map((c) => c.raw));
    });
  }
  const scores = computeCaptionMetrics(references, hypotheses, { split: settings.split, protocol: 'teacher-forced', metrics: ['BLEU'] });
  // Loss per batch averaged by tokens: the mean over all real tokens of the split.
  return {
    loss: loss / tokens,
    crossEntropy: crossEntropy / tokens,
    attention: attention / tokens,
    metrics: scores.metrics,
    bleu4: requiredBleu4(scores.metrics, `teacher-forced ${settings.split} (${captions.image.length} captions)`),
  };
}
