/**
 * What free-running decoding shares (greedy-decode.ts, beam-search.ts, caption-log-prob.ts):
 * the decoded caption's shape, the decoding conventions, and one step through
 * `Decoder.step` for all rows still running.
 *
 * Dimensions: N images, K beams, R = rows decoded at a step (images x beams still running),
 * P regions, V vocabulary size.
 *
 * Conventions shared by `greedyDecode`, `beamSearch` and `captionLogProb`: `<pad>` and
 * `<start>` are never produced (their logits are masked before the softmax, so the
 * probabilities of all captions sum to 1); a caption is at most `maxLength` words; one that
 * reaches it without `<end>` stops there (`ended: false`, its log-probability without an
 * `<end>` term).
 *
 * The searches are async only so that word inputs computed outside tfjs (BERT through ONNX
 * Runtime) can run on each step's live prefixes before the step: `words.prepareLast(prefixes)`.
 */
import * as tf from '@tensorflow/tfjs';

import { PAD_ID, START_ID } from '../data/vocabulary';
import type { Captioner } from './captioner';
import type { DecoderState, EncodedImages } from './decoder';
import { tidyObject } from './tidy';

export interface DecodedCaption {
  /** Word ids, without `<start>` and `<end>`. */
  words: number[];
  /** log P of the words (and of `<end>` when `ended`). */
  logProb: number;
  /** Whether the caption ended with `<end>` (false: cut at maxLength). */
  ended: boolean;
  /** Attention weights of each word, row-major [T, P] (T = words.length). */
  alphas: Float32Array;
  /** Regions P. */
  regions: number;
}

/** Log-probabilities [R, V] with `<pad>` and `<start>` masked out. */
function maskedLogSoftmax(logits: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const V = logits.shape[1];
    const mask = new Float32Array(V);
    mask[PAD_ID] = -Infinity;
    mask[START_ID] = -Infinity;
    return tf.logSoftmax(logits.add(tf.tensor1d(mask))) as tf.Tensor2D; // [R, V]
  });
}

/**
 * One decoding step for R rows: prefixes (host) -> masked log-probabilities [R, V], new
 * state, alpha [R, P]. Word inputs that compute vectors ahead (BERT over the live
 * prefixes) get them ready first, batched over all rows.
 */
export async function decodeStep(
  captioner: Captioner,
  prefixes: readonly number[][],
  state: DecoderState,
  encoded: EncodedImages,
): Promise<{ logp: tf.Tensor2D; state: DecoderState; alpha: tf.Tensor2D }> {
  if (captioner.words.prepareLast) await captioner.words.prepareLast(prefixes);
  return tidyObject(() => {
    const R = prefixes.length;
    const t = prefixes[0].length;
    const flat = new Int32Array(R * t);
    prefixes.forEach((p, r) => flat.set(p, r * t));
    const vectors = captioner.words.embedLast(tf.tensor2d(flat, [R, t], 'int32')); // [R, E]
    const step = captioner.decoder.step(captioner.decoder.projectWords(vectors), state, encoded); // logits [R, V]
    return { logp: maskedLogSoftmax(step.logits!), state: step.state, alpha: step.alpha };
  });
}

export function checkMaxLength(maxLength: number): void {
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new Error(`decoding: maxLength must be a whole number >= 1, got ${maxLength}`);
}

export function disposeState(state: DecoderState): void {
  state.h.dispose();
  state.c.dispose();
}
