/**
 * Greedy decoding: each image's most probable next word at every step, through the shared
 * step (decode-step.ts, with its conventions), with each word's attention weights and the
 * caption's log-probability. Finished captions drop out of the batch.
 *
 * Dimensions: N images, R = rows decoded at a step (images still running), P regions.
 *
 *   const captions = await greedyDecode(captioner, features, { maxLength: 20 });
 *   captions[0].words;    // ids, without <start>/<end>
 *   captions[0].alphas;   // Float32Array [T, P]: the attention of each word
 *   captions[0].logProb;  // log P(words, <end> | image)
 */
import * as tf from '@tensorflow/tfjs';

import { END_ID, START_ID } from '../data/vocabulary';
import type { Captioner } from './captioner';
import { checkMaxLength, type DecodedCaption, decodeStep, disposeState } from './decode-step';
import { Decoder } from './decoder';

export interface GreedyOptions {
  /** Most words per caption (default 20). */
  maxLength?: number;
}

/** Greedy decoding of N images: inputs are pixels [N, S, S, 3] or features [N, P, D] as the captioner takes them. */
export async function greedyDecode(captioner: Captioner, inputs: tf.Tensor, options: GreedyOptions = {}): Promise<DecodedCaption[]> {
  const maxLength = options.maxLength ?? 20;
  checkMaxLength(maxLength);
  const all = captioner.encode(inputs); // [N, …]
  const N = all.features.shape[0];
  const P = all.features.shape[1];
  const words: number[][] = Array.from({ length: N }, () => []);
  const alphas: number[][] = Array.from({ length: N }, () => []);
  const logProbs = new Float64Array(N);
  const ended = new Array<boolean>(N).fill(false);
  let active = Array.from({ length: N }, (_, i) => i); // images still running, in row order
  let encoded = all;
  let state = captioner.decoder.initialState(all);
  try {
    for (let t = 0; t < maxLength && active.length > 0; t++) {
      const prefixes = active.map((i) => [START_ID, ...words[i]]);
      const step = await decodeStep(captioner, prefixes, state, encoded);
      disposeState(state);
      state = step.state;
      const [best, bestLogp] = tf.tidy(() => {
        const ids = step.logp.argMax(1); // [R]
        const lp = step.logp.max(1); // [R]: the chosen word's log-probability
        return [ids, lp];
      });
      const ids = best.dataSync();
      const lps = bestLogp.dataSync();
      const alpha = step.alpha.dataSync(); // [R, P]
      tf.dispose([best, bestLogp, step.logp, step.alpha]);
      const still: number[] = [];
      const keep: number[] = [];
      active.forEach((i, r) => {
        logProbs[i] += lps[r];
        if (ids[r] === END_ID) {
          ended[i] = true;
          return;
        }
        words[i].push(ids[r]);
        for (let p = 0; p < P; p++) alphas[i].push(alpha[r * P + p]);
        still.push(i);
        keep.push(r);
      });
      if (still.length < active.length && still.length > 0) {
        // Compact: only the captions still running go on.
        const index = tf.tensor1d(keep, 'int32'); // [R']: the rows still running
        const next = { h: tf.gather(state.h, index) as tf.Tensor2D, c: tf.gather(state.c, index) as tf.Tensor2D }; // [R', H] x 2
        const nextEncoded = Decoder.gather(encoded, index); // [R', …]
        index.dispose();
        disposeState(state);
        if (encoded !== all) Decoder.dispose(encoded);
        state = next;
        encoded = nextEncoded;
      }
      active = still;
    }
  } finally {
    disposeState(state);
    if (encoded !== all) Decoder.dispose(encoded);
    Decoder.dispose(all);
  }
  return words.map((w, i) => ({ words: w, logProb: logProbs[i], ended: ended[i], alphas: Float32Array.from(alphas[i]), regions: P }));
}
