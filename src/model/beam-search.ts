/**
 * Batched beam search over images and beams, through the shared step (decode-step.ts, with
 * its conventions), with each word's attention weights and the caption's log-probability.
 *
 * Dimensions: N images, K beams, A images still running, R = rows decoded at a step
 * (A x K), C candidates per image, P regions, V vocabulary size.
 *
 *   const best = await beamSearch(captioner, features, { beam: 3, maxLength: 20 });
 *   best[0].words;    // ids, without <start>/<end>
 *   best[0].alphas;   // Float32Array [T, P]: the attention of each word
 *   best[0].logProb;  // log P(words, <end> | image)
 *
 * Beam search is batched over images and beams: one `step` call per time step for all live
 * beams of all images. Each image keeps K live beams, ranked by log-probability: at each
 * step the best extensions are taken in order until K live ones are found, and those of
 * them that emit `<end>` become finished hypotheses. A hypothesis scores
 *
 *   score = logProb / length^lengthPenalty     (length counts `<end>`; lengthPenalty 0: logProb)
 *
 * and the best finished one wins. An image stops only when no live beam can still beat it.
 * The bound: every word adds a log-probability <= 0, so a live beam's logProb L can only
 * fall, and any caption it can still become has L' <= L <= 0 and a length n <= maxLength;
 * its score L' / n^lp is then at most L / maxLength^lp (for lp = 0: L itself). A live beam
 * whose bound does not exceed the best finished score cannot win; an image whose live beams
 * all are such stops. With lp = 0 the bound is the live beam's own logProb; with lp > 0 it
 * divides by the normaliser of the longest possible caption (a longer caption can score
 * higher), so images search longer, often to maxLength. At maxLength the live beams finish
 * without `<end>`. So the result is the best, by the score, of all hypotheses the beam
 * kept. With K = 1 and lengthPenalty 0 this is exactly greedy decoding (greedy-decode.ts).
 */
import * as tf from '@tensorflow/tfjs';

import { END_ID, START_ID } from '../data/vocabulary';
import type { Captioner } from './captioner';
import { checkMaxLength, type DecodedCaption, decodeStep, disposeState } from './decode-step';
import { Decoder, type DecoderState, type EncodedImages } from './decoder';
import type { GreedyOptions } from './greedy-decode';

export interface BeamOptions extends GreedyOptions {
  /** Beam size K (default 3). */
  beam?: number;
  /** Final choice by logProb / length^lengthPenalty, length counting `<end>` (default 0: raw log-probability). */
  lengthPenalty?: number;
}

/**
 * One word's attention in a hypothesis's history: an append-only chain, newest word first,
 * shared by every hypothesis that extends it. Each step adds one link per kept beam (O(P)),
 * and a caption's alphas [T, P] are assembled once, at the end (O(T P)).
 */
interface AttentionLink {
  alpha: Float32Array; // [P]: a view into that step's alpha rows [R, P]
  parent: AttentionLink | null;
}

interface Hypothesis {
  /** Word ids so far, without `<start>` (the prefix the next step reads). */
  words: number[];
  logProb: number;
  /** Attention of the last word (null before the first word). */
  attention: AttentionLink | null;
}

interface FinishedHypothesis extends Hypothesis {
  ended: boolean;
}

/** The attention chain of a T-word hypothesis as rows [T, P]. */
function attentionRows(last: AttentionLink | null, T: number, P: number): Float32Array {
  const rows = new Float32Array(T * P); // [T, P]
  let t = T - 1;
  for (let link = last; link !== null; link = link.parent) rows.set(link.alpha, P * t--);
  return rows;
}

/** Batched beam search over N images: inputs are pixels [N, S, S, 3] or features [N, P, D] as the captioner takes them. */
export async function beamSearch(captioner: Captioner, inputs: tf.Tensor, options: BeamOptions = {}): Promise<DecodedCaption[]> {
  const maxLength = options.maxLength ?? 20;
  const K = options.beam ?? 3;
  const lengthPenalty = options.lengthPenalty ?? 0;
  checkMaxLength(maxLength);
  if (!Number.isInteger(K) || K < 1) throw new Error(`beamSearch: beam must be a whole number >= 1, got ${K}`);
  if (!(lengthPenalty >= 0)) throw new Error(`beamSearch: lengthPenalty must be >= 0, got ${lengthPenalty}`);

  // The scoring rule, and the most a live hypothesis can still score (see the header).
  const score = (h: FinishedHypothesis) => (lengthPenalty === 0 ? h.logProb : h.logProb / Math.pow(h.words.length + (h.ended ? 1 : 0), lengthPenalty));
  const longest = Math.pow(maxLength, lengthPenalty); // the largest normaliser of any caption
  const upperBound = (live: Hypothesis) => live.logProb / longest; // logProb <= 0

  const all = captioner.encode(inputs); // [N, …]
  const N = all.features.shape[0];
  const P = all.features.shape[1];
  // The best finished hypothesis of each image so far (the first one found wins a tie).
  const best: (FinishedHypothesis | null)[] = new Array(N).fill(null);
  const bestScore = new Float64Array(N).fill(-Infinity);
  const finish = (image: number, h: FinishedHypothesis) => {
    const s = score(h);
    if (best[image] === null || s > bestScore[image]) {
      best[image] = h;
      bestScore[image] = s;
    }
  };
  // K live beams per active image, rows image-major: row = slot * K + beam. At t = 0 the K
  // beams of an image are copies of <start>; all but the first score -Infinity.
  let active = Array.from({ length: N }, (_, i) => i);
  let live: Hypothesis[][] = active.map(() => Array.from({ length: K }, (_, k) => ({ words: [], logProb: k === 0 ? 0 : -Infinity, attention: null })));
  const repeat = (images: number[]) => tf.tensor1d(images.flatMap((i) => new Array<number>(K).fill(i)), 'int32'); // [R]
  let encoded: EncodedImages;
  let state: DecoderState | null;
  {
    const index = repeat(active);
    encoded = Decoder.gather(all, index); // [N*K, …]
    state = captioner.decoder.initialState(encoded); // [N*K, H] x 2
    index.dispose();
  }
  try {
    for (let t = 0; t < maxLength && state !== null; t++) {
      const A = active.length;
      const prefixes = live.flatMap((beams) => beams.map((h) => [START_ID, ...h.words]));
      const step = await decodeStep(captioner, prefixes, state, encoded);
      disposeState(state);
      state = step.state; // disposed by the finally block if anything below throws
      const V = step.logp.shape[1];
      const C = Math.min(2 * K, K * V); // candidates per image: K of them can be <end>
      const [values, indices, logps] = tf.tidy(() => {
        const scores = tf.tensor2d(live.flatMap((beams) => beams.map((h) => h.logProb)), [A * K, 1]); // [R, 1]
        const total = step.logp.add(scores).reshape([A, K * V]); // [A, K*V]
        const top = tf.topk(total, C); // [A, C]
        const flatIndex = top.indices.add(tf.range(0, A, 1, 'int32').mul(tf.scalar(K * V, 'int32')).reshape([A, 1])).reshape([A * C]); // [A*C]
        const lp = tf.gather(step.logp.reshape([A * K * V]), flatIndex); // [A*C]: each candidate's own log-probability
        return [top.values, top.indices, lp];
      });
      const vals = values.dataSync();
      const idx = indices.dataSync();
      const lps = logps.dataSync();
      const alpha = new Float32Array(step.alpha.dataSync()); // [R, P], a copy: the attention links view it
      tf.dispose([values, indices, logps, step.logp, step.alpha]);

      const nextActive: number[] = [];
      const nextLive: Hypothesis[][] = [];
      const parents: number[] = [];
      active.forEach((image, slot) => {
        // The best candidates in order until K live ones; those ending with <end> finish.
        const beams: Hypothesis[] = [];
        const parentRows: number[] = [];
        for (let c = 0; c < C && beams.length < K; c++) {
          const total = vals[slot * C + c];
          if (!Number.isFinite(total)) break;
          const flat = idx[slot * C + c];
          const beam = Math.floor(flat / V);
          const word = flat % V;
          const parent = live[slot][beam];
          const row = slot * K + beam;
          const logProb = parent.logProb + lps[slot * C + c];
          if (word === END_ID) {
            finish(image, { words: parent.words, logProb, attention: parent.attention, ended: true });
            continue;
          }
          beams.push({ words: [...parent.words, word], logProb, attention: { alpha: alpha.subarray(row * P, (row + 1) * P), parent: parent.attention } });
          parentRows.push(row);
        }
        if (t === maxLength - 1) {
          // At maxLength the live beams finish without <end>.
          for (const b of beams) finish(image, { ...b, ended: false });
          return;
        }
        if (beams.length === 0) return;
        // Stop once no live beam can beat the best finished hypothesis.
        if (best[image] !== null && beams.every((b) => upperBound(b) <= bestScore[image])) return;
        while (beams.length < K) {
          // Fewer than K finite candidates (tiny vocabularies): pad with dead copies.
          beams.push({ words: beams[0].words, logProb: -Infinity, attention: beams[0].attention });
          parentRows.push(parentRows[0]);
        }
        nextActive.push(image);
        nextLive.push(beams);
        parents.push(...parentRows);
      });
      // Reorder the state to the surviving beams; drop the rows of finished images.
      const reordered: DecoderState | null =
        nextActive.length === 0
          ? null
          : tf.tidy(() => {
              const parentIndex = tf.tensor1d(parents, 'int32');
              return { h: tf.gather(step.state.h, parentIndex) as tf.Tensor2D, c: tf.gather(step.state.c, parentIndex) as tf.Tensor2D };
            });
      disposeState(step.state);
      state = reordered;
      if (state === null) break;
      if (nextActive.length !== active.length) {
        const index = repeat(nextActive);
        Decoder.dispose(encoded);
        encoded = Decoder.gather(all, index);
        index.dispose();
      }
      active = nextActive;
      live = nextLive;
    }
  } finally {
    if (state) disposeState(state);
    Decoder.dispose(encoded);
    Decoder.dispose(all);
  }
  return best.map((h, image) => {
    if (h === null) throw new Error(`beamSearch: image ${image} has no finite-probability caption`);
    return { words: h.words, logProb: h.logProb, ended: h.ended, alphas: attentionRows(h.attention, h.words.length, P), regions: P };
  });
}
