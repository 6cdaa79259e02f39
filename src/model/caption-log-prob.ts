/**
 * The log-probability of a given caption, step by step through the shared step
 * (decode-step.ts): what the searches (greedy-decode.ts, beam-search.ts) score a caption,
 * so that tests can check them against brute force over all captions.
 *
 * Dimensions: N images (one caption each), V vocabulary size.
 *
 *   const [lp] = await captionLogProb(captioner, features, [words], [true]);  // log P(words, <end> | image)
 */
import * as tf from '@tensorflow/tfjs';

import { END_ID, START_ID } from '../data/vocabulary';
import type { Captioner } from './captioner';
import { decodeStep, disposeState } from './decode-step';
import { Decoder } from './decoder';

/**
 * log P(caption | image) under the decoding conventions (decode-step.ts), for N images and one
 * caption (word ids, no `<start>`) each; `ended` adds the `<end>` term. Used to check
 * the searches against brute force.
 */
export async function captionLogProb(captioner: Captioner, inputs: tf.Tensor, captions: readonly number[][], ended: readonly boolean[]): Promise<number[]> {
  const encoded = captioner.encode(inputs);
  const N = encoded.features.shape[0];
  if (captions.length !== N || ended.length !== N) throw new Error(`captionLogProb: ${N} images, ${captions.length} captions, ${ended.length} ended flags`);
  let state = captioner.decoder.initialState(encoded);
  const total = new Float64Array(N);
  const steps = Math.max(...captions.map((c, i) => c.length + (ended[i] ? 1 : 0)));
  try {
    for (let t = 0; t < steps; t++) {
      const prefixes = captions.map((c) => [START_ID, ...c.slice(0, Math.min(t, c.length))].concat(new Array<number>(Math.max(0, t - c.length)).fill(END_ID)));
      const step = await decodeStep(captioner, prefixes, state, encoded);
      disposeState(state);
      state = step.state;
      const lp = step.logp.dataSync(); // [N, V]
      const V = step.logp.shape[1];
      tf.dispose([step.logp, step.alpha]);
      captions.forEach((c, i) => {
        if (t < c.length) total[i] += lp[i * V + c[t]];
        else if (t === c.length && ended[i]) total[i] += lp[i * V + END_ID];
      });
    }
  } finally {
    disposeState(state);
    Decoder.dispose(encoded);
  }
  return Array.from(total);
}
