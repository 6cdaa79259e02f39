/**
 * The decoder's BERT inputs, one switch for the three modes, cached.
 *
 * The decoder reads at step t the vector of the word before it: step 0 reads the start
 * token, step t >= 1 reads word t (1-based: w_1 … w_n are a caption's words), so a caption
 * of n words has n + 1 input steps and its step inputs are a matrix [(n + 1), W]:
 *
 *   bidirectional  the report's method: BERT over the whole ground-truth caption
 *                  `[CLS] w_1 … w_n [SEP]`; row 0 is its `[CLS]` vector, row t word t's.
 *                  Every row has seen the words the decoder must predict (the leak that
 *                  FACTS.md §1 suspects). At inference only the generated prefix exists,
 *                  so decoding (`lastWordVectors`) runs BERT on the prefix, as it must.
 *   causal         row t = BERT over the prefix `[CLS] w_1 … w_t [SEP]`, the vector of its
 *                  last word w_t; row 0 = `[CLS]` of `[CLS] [SEP]` (the empty prefix). The
 *                  same computation in training and decoding; nothing after w_t is seen.
 *   static         BERT's piece-embedding table, pieces combined per word; row 0 `[CLS]`'s.
 *                  No context at all.
 *
 * Start step: in every mode the start token reads the `[CLS]` vector of the same
 * computation (the caption's pass, the empty prefix's pass, or the table). This keeps the
 * decoder free of a learned start vector and makes `lastWordVectors([[]])` (decoding's
 * first step) equal to causal row 0.
 *
 *   const vectors = await BertWordVectors.create(embedder, { mode: 'causal', cacheDir: 'results/cache/bert' });
 *   const { data, shape } = await vectors.teacherForcing([['a', 'red', 'circle']]);   // shape [1, 4, W]
 *   await vectors.lastWordVectors([['a'], ['a', 'red']]);                             // [2, W]
 *
 * Caches (vector-cache.ts), in a folder per embedder key (model files, layer, alignment,
 * segment id): `bidirectional|<caption>` and `causal|<caption>` entries on disk (one file
 * per caption), `last|<prefix>` entries (one W-vector per prefix) in memory only: there
 * are too many prefixes to give each a file, and a caption's causal entry already holds
 * all of its prefixes.
 *
 * Dimensions: B captions (or beams), T steps, W width, n words of a caption.
 */
import * as fs from 'fs';
import * as path from 'path';

import { createHash } from 'crypto';

import { writeFileAtomic } from '../../common/atomic-write';
import { phaseProgress } from '../../common/phase-progress';
import { type BertMode, BERT_MODES } from '../../config';
import type { BertEmbedder } from './embedder';
import { VectorCache, type VectorCacheStats } from './vector-cache';

/** Checks a mode name, naming the valid ones. */
export function checkBertMode(value: string): BertMode {
  if (!(BERT_MODES as readonly string[]).includes(value)) throw new Error(`BERT mode ${JSON.stringify(value)} is not one of ${BERT_MODES.join(', ')}`);
  return value as BertMode;
}

export interface BertWordVectorsOptions {
  mode: BertMode;
  /** Root of the disk cache (a subfolder per embedder key); null or absent: memory only. */
  cacheDir?: string | null;
  /** Memory budget of the cache's LRU (default 256 MiB). */
  maxMemoryBytes?: number;
  /** Captions per BERT pass when filling the cache (default 256; bounds memory). */
  chunkSize?: number;
  /** Progress of long precomputations (captions done of total). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Progress lines of long precomputations, with rate and ETA (src/common/phase-progress.ts: a
   * bar on a terminal, the cell's display in a notebook, else a line at most every 30 s, and
   * a final line); default none.
   */
  log?: ((line: string) => void) | null;
}

function text(words: readonly string[]): string {
  return words.join(' ');
}

export class BertWordVectors {
  readonly mode: BertMode;
  readonly embedder: BertEmbedder;
  readonly cache: VectorCache;
  /** Identifies the vectors: embedder key + mode. */
  readonly id: string;
  private readonly chunkSize: number;
  private readonly onProgress?: (done: number, total: number) => void;
  private readonly log: ((line: string) => void) | null;
  private table: Float32Array | null = null;

  private constructor(embedder: BertEmbedder, options: BertWordVectorsOptions) {
    this.mode = checkBertMode(options.mode);
    this.embedder = embedder;
    this.id = `${embedder.key}|${this.mode}`;
    const namespace = createHash('sha256').update(embedder.key).digest('hex').slice(0, 16);
    this.cache = new VectorCache({ dir: options.cacheDir ? path.join(options.cacheDir, `${embedder.modelKey.slice(0, 40)}-${namespace}`) : null, maxMemoryBytes: options.maxMemoryBytes });
    this.chunkSize = options.chunkSize ?? 256;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 1) throw new Error(`BertWordVectors: chunkSize must be a whole number >= 1, got ${options.chunkSize}`);
    this.onProgress = options.onProgress;
    this.log = options.log ?? null;
  }

  /** Vectors of `embedder` in `mode`; the static mode reads the piece table here. */
  static async create(embedder: BertEmbedder, options: BertWordVectorsOptions): Promise<BertWordVectors> {
    const vectors = new BertWordVectors(embedder, options);
    if (vectors.mode === 'static') vectors.table = await embedder.staticTable();
    if (vectors.cache.dir) {
      const about = path.join(vectors.cache.dir, 'namespace.json');
      if (!fs.existsSync(about)) {
        await writeFileAtomic(about, JSON.stringify({ key: embedder.key, model: embedder.source.request, modelKey: embedder.modelKey, ...embedder.settings, output: embedder.outputName }, null, 2) + '\n');
      }
    }
    return vectors;
  }

  /** Vector width W. */
  get width(): number {
    return this.embedder.width;
  }

  /** Whether step t depends on words 1..t only. */
  get causal(): boolean {
    return this.mode !== 'bidirectional';
  }

  get stats(): VectorCacheStats {
    return this.cache.stats;
  }

  /**
   * Step inputs [(n + 1), W] of each caption (see the header), computing what the cache
   * lacks. Returns them all: for a few captions (inspection, tests); preparing a dataset's
   * captions is `ensureStepInputs`, which holds none of them.
   */
  async stepInputs(captions: readonly (readonly string[])[]): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(captions.length);
    const missing = new Map<string, number[]>(); // caption text -> indices
    captions.forEach((c, i) => {
      const hit = this.peekStepInputs(c);
      if (hit) out[i] = hit;
      else {
        const key = text(c);
        const list = missing.get(key);
        if (list) list.push(i);
        else missing.set(key, [i]);
      }
    });
    await this.compute([...missing.values()].map((indices) => captions[indices[0]]), (caption, rows) => {
      for (const i of missing.get(text(caption))!) out[i] = rows;
    });
    return out;
  }

  /**
   * Makes sure the cache holds the step inputs of every caption, computing (in chunks) only
   * those it lacks, found by the entry's presence (the file's existence), not by reading it.
   * What data preparation calls: its memory is one chunk of vectors and the LRU, whatever
   * the number of captions (616k for COCO; the README's "COCO at scale" gives their disk size).
   */
  async ensureStepInputs(captions: readonly (readonly string[])[]): Promise<{ cached: number; computed: number }> {
    if (this.mode === 'static') return { cached: captions.length, computed: 0 };
    const todo = new Map<string, readonly string[]>();
    const seen = new Set<string>();
    let cached = 0; // distinct captions found in the cache
    for (const c of captions) {
      const key = text(c);
      if (seen.has(key)) continue;
      seen.add(key);
      if (this.cache.has(`${this.mode}|${key}`)) cached += 1;
      else todo.set(key, c);
    }
    await this.compute([...todo.values()]);
    return { cached, computed: todo.size };
  }

  /**
   * Reads the step inputs of captions from disk into the cache's memory, asynchronously:
   * training asks for the next batch's captions while the current step runs, so that the
   * synchronous `peekStepInputs` of the next step finds them in memory.
   */
  async prefetchStepInputs(captions: readonly (readonly string[])[]): Promise<void> {
    if (this.mode === 'static') return;
    await Promise.all(captions.map((c) => this.cache.load(`${this.mode}|${text(c)}`)));
  }

  /**
   * Stores step inputs computed elsewhere ([(n + 1), W] for a caption of n words): vectors
   * from a batch job on another machine, or the scale benchmark's random bert-base-shaped ones.
   */
  async writeStepInputs(caption: readonly string[], rows: Float32Array): Promise<void> {
    if (this.mode === 'static') throw new Error('BertWordVectors.writeStepInputs: the static mode reads the piece table and caches nothing');
    if (rows.length !== (caption.length + 1) * this.width) throw new Error(`BertWordVectors.writeStepInputs: ${rows.length} values for a caption of ${caption.length} words at width ${this.width} (expected ${(caption.length + 1) * this.width})`);
    await this.cache.set(`${this.mode}|${text(caption)}`, rows, caption.length + 1, this.width);
  }

  /** Computes the step inputs of captions missing from the cache, chunk by chunk, writing each; `each` sees every computed caption. */
  private async compute(todo: readonly (readonly string[])[], each?: (caption: readonly string[], rows: Float32Array) => void): Promise<void> {
    const progress = todo.length > 0 && this.log ? phaseProgress({ label: `BERT ${this.mode} vectors`, total: todo.length, unit: 'captions', log: this.log }) : undefined;
    for (let start = 0; start < todo.length; start += this.chunkSize) {
      const chunk = todo.slice(start, start + this.chunkSize);
      const computed = this.mode === 'bidirectional' ? await this.embedder.run(chunk) : await this.causalRows(chunk);
      for (let j = 0; j < chunk.length; j++) {
        await this.cache.set(`${this.mode}|${text(chunk[j])}`, computed[j], chunk[j].length + 1, this.width);
        each?.(chunk[j], computed[j]);
      }
      this.onProgress?.(Math.min(todo.length, start + chunk.length), todo.length);
      progress?.tick(chunk.length);
    }
    progress?.done();
  }

  /** Step inputs from the cache only (static: computed); undefined when not prepared. Synchronous. */
  peekStepInputs(caption: readonly string[]): Float32Array | undefined {
    if (this.mode === 'static') return this.embedder.staticVectorsFrom(this.table!, caption);
    return this.cache.get(`${this.mode}|${text(caption)}`)?.data;
  }

  /**
   * Teacher forcing: [B, T, W] batch-major, zero rows after each caption's n + 1 steps.
   * T defaults to the longest caption's n + 1.
   */
  async teacherForcing(captions: readonly (readonly string[])[], steps?: number): Promise<{ data: Float32Array; shape: [number, number, number] }> {
    const rows = await this.stepInputs(captions);
    const W = this.width;
    const B = captions.length;
    const T = steps ?? Math.max(0, ...captions.map((c) => c.length + 1));
    const data = new Float32Array(B * T * W);
    rows.forEach((r, b) => data.set(r.subarray(0, Math.min(T, captions[b].length + 1) * W), b * T * W));
    return { data, shape: [B, T, W] };
  }

  /**
   * Decoding: the vector of each prefix's last word given that prefix alone (BERT over
   * `[CLS] prefix [SEP]`; the empty prefix gives `[CLS]`), batched over prefixes (beams),
   * cached by prefix text in memory: [B, W]. The same in every mode but static, which
   * reads the table.
   */
  async lastWordVectors(prefixes: readonly (readonly string[])[]): Promise<Float32Array> {
    const W = this.width;
    const out = new Float32Array(prefixes.length * W);
    const rows = await this.lastRows(prefixes);
    rows.forEach((r, b) => out.set(r, b * W));
    return out;
  }

  /** {@link lastWordVectors} from the cache only (static: computed); undefined when not prepared. Synchronous. */
  peekLast(prefix: readonly string[]): Float32Array | undefined {
    if (this.mode === 'static') {
      const all = this.embedder.staticVectorsFrom(this.table!, prefix.slice(-1));
      return prefix.length === 0 ? all.subarray(0, this.width) : all.subarray(this.width, 2 * this.width);
    }
    return this.cache.get(`last|${text(prefix)}`, { disk: false })?.data;
  }

  /** Word-aligned vectors of each caption in this mode, without the start row: [n, W] each. */
  async wordVectors(captions: readonly (readonly string[])[]): Promise<Float32Array[]> {
    const rows = await this.stepInputs(captions);
    return rows.map((r) => r.subarray(this.width));
  }

  private async lastRows(prefixes: readonly (readonly string[])[]): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(prefixes.length);
    const missing = new Map<string, number[]>();
    prefixes.forEach((p, i) => {
      const hit = this.peekLast(p);
      if (hit) out[i] = hit;
      else {
        const key = text(p);
        const list = missing.get(key);
        if (list) list.push(i);
        else missing.set(key, [i]);
      }
    });
    if (missing.size === 0) return out;
    const todo = [...missing.values()].map((indices) => prefixes[indices[0]]);
    const W = this.width;
    const computed = await this.embedder.run(todo);
    for (let j = 0; j < todo.length; j++) {
      const k = todo[j].length;
      const last = computed[j].slice(k * W, (k + 1) * W); // row k: the last word ([CLS] when k = 0)
      const key = text(todo[j]);
      await this.cache.set(`last|${key}`, last, 1, W, { persist: false });
      for (const i of missing.get(key)!) out[i] = last;
    }
    return out;
  }

  /** Causal rows of captions: row k = last-word vector of the prefix of k words. */
  private async causalRows(captions: readonly (readonly string[])[]): Promise<Float32Array[]> {
    const prefixes: (readonly string[])[] = [];
    for (const c of captions) for (let k = 0; k <= c.length; k++) prefixes.push(c.slice(0, k));
    const last = await this.lastRows(prefixes);
    const W = this.width;
    let p = 0;
    return captions.map((c) => {
      const rows = new Float32Array((c.length + 1) * W);
      for (let k = 0; k <= c.length; k++) rows.set(last[p++], k * W);
      return rows;
    });
  }
}

/**
 * Word-aligned BERT vectors of captions, [n, W] each (no start row): the plain form for a
 * decoder that projects them itself.
 */
export async function bertVectorsFor(embedder: BertEmbedder, captions: readonly (readonly string[])[], options: BertWordVectorsOptions): Promise<Float32Array[]> {
  const vectors = await BertWordVectors.create(embedder, options);
  return vectors.wordVectors(captions);
}
