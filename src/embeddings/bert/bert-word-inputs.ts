/**
 * BERT vectors behind the decoder's word-input interface (src/embeddings/word-inputs.ts),
 * so that the captioner trains and decodes with them exactly as with a learned table.
 *
 *   const words = await BertWordInputs.create(embedder, vocab, { mode: 'causal', cacheDir });
 *   await words.prepare(trainingCaptionIds);          // BERT runs here, once, cached on disk
 *   captioner = new Captioner({ encoder: null, words, decoder });   // decoder.embeddingDim = words.dim
 *   const captions = await beamSearch(captioner, features, { beam: 3 });   // BERT runs on the live prefixes
 *
 * The tensor side of the interface is synchronous and BERT (ONNX Runtime) is not, so the
 * vectors are computed ahead: `prepare` fills the cache for teacher forcing (ids -> words
 * -> step inputs), and `embedPrefix` then only reads it (memory, else the disk files). In
 * free-running decoding the searches await `prepareLast(prefixes)` before every step: BERT
 * runs once on the new prefixes of all live beams (batched), and `embedLast` reads them.
 * Either read throws an error naming the captions or prefixes that were not prepared.
 *
 * Vectors are frozen (no variables) and `dim` is BERT's width: the decoder's own input
 * matrix (W_x, [E, 4H]) is the projection to its size, so a separate dense layer would
 * only multiply two linear maps. `causal` is false in the bidirectional mode.
 *
 * Dimensions: T steps, B captions (or beams), E = W the BERT width.
 */
import * as tf from '@tensorflow/tfjs';

import { END_ID, PAD_ID, START_ID, UNK_ID, type Vocabulary } from '../../data/vocabulary';
import type { WordInputs } from '../word-inputs';
import type { BertEmbedder } from './embedder';
import type { BertMode } from '../../config';
import { BertWordVectors, type BertWordVectorsOptions } from './word-vectors';

function describe(list: readonly (readonly string[])[]): string {
  const shown = list.slice(0, 3).map((p) => JSON.stringify(p.join(' ')));
  return shown.join(', ') + (list.length > 3 ? ` and ${list.length - 3} more` : '');
}

/** `embedLast` met prefixes whose vectors are not computed yet. */
export class PrefixesNotPreparedError extends Error {
  constructor(readonly prefixes: string[][]) {
    super(`BERT word inputs: no vectors for the prefixes ${describe(prefixes)}; await words.prepareLast(prefixes) first (greedyDecode and beamSearch do)`);
    this.name = 'PrefixesNotPreparedError';
  }
}

/** `embedPrefix` met captions whose step inputs are not computed yet. */
export class CaptionsNotPreparedError extends Error {
  constructor(readonly captions: string[][]) {
    super(`BERT word inputs: no step inputs for the captions ${describe(captions)}; await words.prepare(captions) before teacher forcing`);
    this.name = 'CaptionsNotPreparedError';
  }
}

export class BertWordInputs implements WordInputs {
  readonly id: string;
  readonly dim: number;
  readonly causal: boolean;
  readonly variables: ReadonlyMap<string, tf.Variable> = new Map();

  constructor(
    readonly vectors: BertWordVectors,
    readonly vocabulary: Vocabulary,
  ) {
    this.dim = vectors.width;
    this.causal = vectors.causal;
    this.id = BertWordInputs.idFor(vectors.embedder, vectors.mode, vocabulary);
  }

  /** The id of the inputs an embedder, mode and vocabulary give (run fingerprints compute it without building them). */
  static idFor(embedder: BertEmbedder, mode: BertMode, vocabulary: Pick<Vocabulary, 'fingerprint'>): string {
    return `bert:${embedder.modelKey}:${embedder.outputName}:${embedder.settings.alignment}:s${embedder.settings.segmentId}:${mode}:v${vocabulary.fingerprint}`;
  }

  static async create(embedder: BertEmbedder, vocabulary: Vocabulary, options: BertWordVectorsOptions): Promise<BertWordInputs> {
    return new BertWordInputs(await BertWordVectors.create(embedder, options), vocabulary);
  }

  /** Words of ids: `<start>` skipped, stops at `<end>` or `<pad>`, `<unk>` kept as `<unk>` (BERT's [UNK]). */
  wordsOf(ids: ArrayLike<number>): string[] {
    const words: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === START_ID && i === 0) continue;
      if (id === END_ID || id === PAD_ID) break;
      words.push(id === UNK_ID ? '<unk>' : this.vocabulary.wordOf(id));
    }
    return words;
  }

  /**
   * Computes the teacher-forcing inputs of captions (ids with or without `<start>`/`<end>`,
   * or words) that the disk cache lacks; holds none of them (training reads them per batch).
   */
  async prepare(captions: readonly (ArrayLike<number> | readonly string[])[]): Promise<{ cached: number; computed: number }> {
    return this.vectors.ensureStepInputs(captions.map((c) => this.toWords(c)));
  }

  /** Reads the inputs of captions (the next batch's) from disk into memory ahead of `embedPrefix`. */
  async prefetch(captions: readonly ArrayLike<number>[]): Promise<void> {
    await this.vectors.prefetchStepInputs(captions.map((c) => this.wordsOf(c)));
  }

  /** Computes (or finds cached) the decoding vectors of prefixes (ids with or without `<start>`, or words). */
  async prepareLast(prefixes: readonly (ArrayLike<number> | readonly string[])[]): Promise<void> {
    await this.vectors.lastWordVectors(prefixes.map((p) => this.toWords(p)));
  }

  private toWords(c: ArrayLike<number> | readonly string[]): string[] {
    return c.length > 0 && typeof c[0] === 'string' ? [...(c as readonly string[])] : this.wordsOf(c as ArrayLike<number>);
  }

  embedPrefix(inputs: tf.Tensor2D): tf.Tensor3D {
    const [T, B] = inputs.shape;
    const W = this.dim;
    const ids = inputs.dataSync(); // [T*B]
    const out = new Float32Array(T * B * W); // [T, B, W]
    const missing: string[][] = [];
    const column = new Int32Array(T);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) column[t] = ids[t * B + b];
      const words = this.wordsOf(column);
      const rows = this.vectors.peekStepInputs(words); // [(n+1), W]
      if (!rows) {
        missing.push(words);
        continue;
      }
      for (let t = 0; t < Math.min(T, words.length + 1); t++) out.set(rows.subarray(t * W, (t + 1) * W), (t * B + b) * W);
    }
    if (missing.length > 0) throw new CaptionsNotPreparedError(missing);
    return tf.tensor3d(out, [T, B, W]);
  }

  embedLast(prefixes: tf.Tensor2D): tf.Tensor2D {
    const [B, t] = prefixes.shape;
    const W = this.dim;
    const ids = prefixes.dataSync(); // [B*t]
    const out = new Float32Array(B * W); // [B, W]
    const missing: string[][] = [];
    for (let b = 0; b < B; b++) {
      const words = this.wordsOf(ids.subarray(b * t, (b + 1) * t));
      const v = this.vectors.peekLast(words);
      if (v) out.set(v, b * W);
      else if (!missing.some((m) => m.join(' ') === words.join(' '))) missing.push(words);
    }
    if (missing.length > 0) throw new PrefixesNotPreparedError(missing);
    return tf.tensor2d(out, [B, W]);
  }

  dispose(): void {}
}
