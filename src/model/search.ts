/**
 * Free-running decoding: greedy and batched beam search, both through `Decoder.step`, with
 * each word's attention weights and the caption's log-probability.
 *
 * Dimensions: N images, K beams, R = rows decoded at a step (images x beams still running),
 * P regions, V vocabulary size.
 *
 *   const captions = await greedyDecode(captioner, features, { maxLength: 20 });
 *   const best = await beamSearch(captioner, features, { beam: 3, maxLength: 20 });
 *   best[0].words;    // ids, without <start>/<end>
 *   best[0].alphas;   // Float32Array [T, P]: the attention of each word
 *   best[0].logProb;  // log P(words, <end> | image)
 *
 * Conventions shared by both (and by `captionLogProb`): `<pad>` and `<start>` are never
 * produced (their logits are masked before the softmax, so the probabilities of all
 * captions sum to 1); a caption is at most `maxLength` words; one that reaches it without
 * `<end>` stops there (`ended: false`, its log-probability without an `<end>` term).
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
 * kept. With K = 1 and lengthPenalty 0 this is exactly greedy decoding.
 *
 * Both are async only so that word inputs computed outside tfjs (BERT through ONNX Runtime)
 * can run on each step's live prefixes before the step: `words.prepareLast(prefixes)`.
 */
import * as tf from '@tensorflow/tfjs';

import { END_ID, PAD_ID, START_ID } from '../data/vocabulary';
import type { Captioner } from './captioner';
import { Decoder, type DecoderState, type EncodedImages } from './decoder';
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

export interface GreedyOptions {
  /** Most words per caption (default 20). */
  maxLength?: number;
}

export interface BeamOptions extends GreedyOptions {
  /** Beam size K (default 3). */
  beam?: number;
  /** Final choice by logProb / length^lengthPenalty, length counting `<end>` (default 0: raw log-probability). */
  lengthPenalty?: number;
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
async function decodeStep(
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

function checkMaxLength(maxLength: number): void {
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new Error(`decoding: maxLength must be a whole number >= 1, got ${maxLength}`);
}

function disposeState(state: DecoderState): void {
  state.h.dispose();
  state.c.dispose();
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
        const index = tf.tensor1d(keep, 'int32');
        const next = { h: tf.gather(state.h, index) as tf.Tensor2D, c: tf.gather(state.c, index) as tf.Tensor2D };
        const nextEncoded = Decoder.gather(encoded, index);
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

/** Batched beam search over N images (inputs as for {@link greedyDecode}). */
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

/**
 * log P(caption | image) under the decoding conventions above, for N images and one
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
      const lp = step.logp.dataSync();
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
