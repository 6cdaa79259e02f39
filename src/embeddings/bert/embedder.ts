/**
 * Contextual word vectors from any BERT-family checkpoint through transformers.js (loaded by
 * bert-checkpoint.ts: a hub id or a local folder in the same layout, offline by default).
 *
 *   const bert = await BertEmbedder.load('Xenova/bert-base-uncased', { layer: 'last', alignment: 'sum' });
 *   const [v] = await bert.run([['a', 'dog', 'on', 'a', 'skateboard']]);
 *   v.length === (5 + 1) * bert.width;   // rows: [CLS], then one row per word
 *
 * Each caption is framed `[CLS] pieces… [SEP]` (sentence-framing.ts), and the pieces'
 * vectors are combined per word (alignment.ts). Sentences are run in batches of similar
 * length, padded, with an attention mask; which hidden state is read, the segment id and the
 * batch size are the embedder's settings (embedder-settings.ts). `staticVectors` reads the
 * piece-embedding table instead, with no context.
 *
 * Dimensions: B sentences, S pieces, W width (hidden size), n words of a sentence, V pieces
 * in the vocabulary.
 */
import { Tensor } from '@huggingface/transformers';
import * as fs from 'fs';
import * as path from 'path';

import { combinePieces } from './alignment';
import { type LoadedBert, loadBertCheckpoint } from './bert-checkpoint';
import { checkSettings, DEFAULT_EMBEDDER_SETTINGS, type EmbedderSettings, layerOutputName } from './embedder-settings';
import { readWordEmbeddings } from './onnx-export';
import type { FramedSentence } from './sentence-framing';
import type { BertSource, SourceOptions } from './source';

export interface BertEmbedderOptions extends SourceOptions, Partial<EmbedderSettings> {
  /** One line on load (default stderr; null: silence). */
  log?: ((line: string) => void) | null;
}

/** Raw hidden states of one sentence: one row per piece. */
export interface PieceStates extends FramedSentence {
  /** Row-major [S, W]. */
  rows: Float32Array;
}

export class BertEmbedder {
  readonly settings: EmbedderSettings;
  /** The graph output read (`last_hidden_state` or `hidden_state_k`). */
  readonly outputName: string;
  /** Identifies model files + layer + alignment + segment: the namespace of vector caches. */
  readonly key: string;

  private constructor(
    private readonly loaded: LoadedBert,
    settings: EmbedderSettings,
  ) {
    this.settings = checkSettings(settings);
    const { layer } = settings;
    this.outputName = layerOutputName(layer);
    if (!loaded.outputs.includes(this.outputName)) {
      throw new Error(
        `BERT ${loaded.source.request}: layer ${JSON.stringify(layer)} needs the graph output ${this.outputName}, but the checkpoint outputs only ${loaded.outputs.join(', ')} ` +
          `(hub exports usually give last_hidden_state alone; the project's own BERTs export hidden_state_0..${'L'})`,
      );
    }
    if (settings.segmentId >= loaded.typeVocabSize) throw new Error(`BERT ${loaded.source.request}: segmentId ${settings.segmentId} is outside its ${loaded.typeVocabSize} token types`);
    this.key = `${this.modelKey}|${this.outputName}|${settings.alignment}|segment${settings.segmentId}`;
  }

  /** Loads a checkpoint by hub id or folder (see source.ts for the offline rule). */
  static async load(model: string, options: BertEmbedderOptions = {}): Promise<BertEmbedder> {
    const { log: logOption, allowRemote, hubCacheDir, ...rest } = options;
    for (const key of Object.keys(rest)) {
      if (!(key in DEFAULT_EMBEDDER_SETTINGS)) throw new Error(`BertEmbedder.load: unknown option ${JSON.stringify(key)}; known: ${[...Object.keys(DEFAULT_EMBEDDER_SETTINGS), 'allowRemote', 'hubCacheDir', 'log'].join(', ')}`);
    }
    const settings = checkSettings({ ...DEFAULT_EMBEDDER_SETTINGS, ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) } as EmbedderSettings);
    const log = logOption === undefined ? (line: string) => process.stderr.write(line + '\n') : logOption;
    const loaded = await loadBertCheckpoint(model, { allowRemote, hubCacheDir });
    const { source } = loaded;
    const embedder = new BertEmbedder(loaded, settings);
    log?.(
      `[captioning-lab] BERT ${source.request} (${source.kind}${source.kind === 'hub' ? `, ${source.remote ? 'downloaded to' : 'cached in'} ${source.folder}` : ''}): ` +
        `width ${loaded.width}, ${loaded.numLayers} layers, reading ${embedder.outputName}, ${settings.alignment} of pieces, segment ${settings.segmentId}`,
    );
    return embedder;
  }

  /** The same loaded checkpoint read with other settings (no reload). */
  withSettings(settings: Partial<EmbedderSettings>): BertEmbedder {
    return new BertEmbedder(this.loaded, { ...this.settings, ...settings });
  }

  /** Where the checkpoint came from. */
  get source(): BertSource {
    return this.loaded.source;
  }
  /** Identifies the checkpoint's files: `<name>-<sha256 of config, tokenizer, model>`. */
  get modelKey(): string {
    const name = this.loaded.source.request.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+/, '').slice(-60);
    return `${name}-${this.loaded.fingerprint}`;
  }
  /** Vector width W (the hidden size). */
  get width(): number {
    return this.loaded.width;
  }
  get numLayers(): number {
    return this.loaded.numLayers;
  }
  /** Longest framed sentence in pieces. */
  get maxPositions(): number {
    return this.loaded.maxPositions;
  }
  /** The graph's outputs. */
  get outputs(): readonly string[] {
    return this.loaded.outputs;
  }
  /** Sentences run through BERT and ONNX runs made so far by this checkpoint (all views), for tests and logs. */
  get counters(): Readonly<{ sentences: number; runs: number }> {
    return { ...this.loaded.counters };
  }
  /** The tokenizer's piece vocabulary (piece -> id). */
  vocabulary(): Map<string, number> {
    return this.loaded.tokenizer.get_vocab();
  }
  /** The `[CLS]`, `[SEP]` and `[UNK]` ids. */
  get specialIds(): { cls: number; sep: number; unk: number; pad: number } {
    const { cls, sep, unk, pad } = this.loaded;
    return { cls, sep, unk, pad };
  }

  /** Piece ids of one word (`<unk>` and `[UNK]` give `[UNK]`). */
  wordPieces(word: string): number[] {
    return this.loaded.framer.wordPieces(word);
  }

  /** `[CLS]` pieces… `[SEP]` of a sentence, with each word's span. */
  frame(words: readonly string[]): FramedSentence {
    return this.loaded.framer.frame(words);
  }

  /** Hidden states of every piece of every sentence ([S, W] each), batched by length. */
  async runPieces(sentences: readonly (readonly string[])[]): Promise<PieceStates[]> {
    const framed = sentences.map((s) => this.frame(s));
    const order = framed.map((_, i) => i).sort((a, b) => framed[a].ids.length - framed[b].ids.length || a - b);
    const out = new Array<PieceStates>(framed.length);
    const W = this.loaded.width;
    for (let start = 0; start < order.length; start += this.settings.batchSize) {
      const chunk = order.slice(start, start + this.settings.batchSize);
      const B = chunk.length;
      const S = Math.max(...chunk.map((i) => framed[i].ids.length));
      const ids = new BigInt64Array(B * S).fill(BigInt(this.loaded.pad)); // [B, S]
      const mask = new BigInt64Array(B * S); // [B, S]: 1 on real pieces
      const types = new BigInt64Array(B * S).fill(BigInt(this.settings.segmentId)); // [B, S]
      chunk.forEach((i, b) => {
        framed[i].ids.forEach((id, s) => {
          ids[b * S + s] = BigInt(id);
          mask[b * S + s] = 1n;
        });
      });
      const inputs = { input_ids: new Tensor('int64', ids, [B, S]), attention_mask: new Tensor('int64', mask, [B, S]), token_type_ids: new Tensor('int64', types, [B, S]) };
      const result = (await this.loaded.model.forward(inputs)) as Record<string, Tensor>;
      this.loaded.counters.runs += 1;
      this.loaded.counters.sentences += B;
      const hidden = result[this.outputName];
      if (!hidden || hidden.dims.length !== 3 || hidden.dims[2] !== W) {
        throw new Error(`BERT ${this.loaded.source.request}: output ${this.outputName} has dims [${hidden?.dims}], expected [${B}, ${S}, ${W}]`);
      }
      const data = hidden.data as Float32Array; // [B, S, W]
      chunk.forEach((i, b) => {
        const n = framed[i].ids.length;
        out[i] = { ...framed[i], rows: data.slice(b * S * W, (b * S + n) * W) };
      });
      for (const t of [...Object.values(result), ...Object.values(inputs)]) t.dispose();
    }
    return out;
  }

  /**
   * Word-aligned vectors: for each sentence, Float32Array [(n + 1), W]: row 0 is `[CLS]`,
   * row i the i-th word (its pieces combined per `alignment`).
   */
  async run(sentences: readonly (readonly string[])[]): Promise<Float32Array[]> {
    const states = await this.runPieces(sentences);
    return states.map((st) => this.align(st));
  }

  /** Row 0 `[CLS]`, then each word's combined pieces: [(n + 1), W]. */
  align(states: PieceStates): Float32Array {
    const W = this.loaded.width;
    const out = new Float32Array((states.spans.length + 1) * W);
    out.set(states.rows.subarray(0, W), 0);
    states.spans.forEach(([s, e], i) => combinePieces(states.rows, W, s, e, this.settings.alignment, out, i + 1));
    return out;
  }

  /** BERT's piece-embedding table [V, W] (read once from the ONNX file's initializers). */
  staticTable(): Promise<Float32Array> {
    if (!this.loaded.staticTable) {
      const file = path.join(this.loaded.source.folder, 'onnx', 'model.onnx');
      this.loaded.staticTable = fs.promises.readFile(file).then((bytes) => readWordEmbeddings(bytes, this.loaded.vocabSize, this.loaded.width, file));
    }
    return this.loaded.staticTable;
  }

  /**
   * Context-free vectors from the piece-embedding table: row 0 `[CLS]`'s, then each word's
   * pieces combined per `alignment`: [(n + 1), W]. No position or segment embedding, no
   * LayerNorm: the table itself.
   */
  async staticVectors(words: readonly string[]): Promise<Float32Array> {
    const table = await this.staticTable();
    return this.staticVectorsFrom(table, words);
  }

  /** {@link staticVectors} with the table already read (synchronous). */
  staticVectorsFrom(table: Float32Array, words: readonly string[]): Float32Array {
    const W = this.loaded.width;
    const out = new Float32Array((words.length + 1) * W);
    out.set(table.subarray(this.loaded.cls * W, this.loaded.cls * W + W), 0);
    const rows = new Float32Array(W * 8);
    words.forEach((w, i) => {
      const ids = this.wordPieces(w);
      const buffer = rows.length >= ids.length * W ? rows : new Float32Array(ids.length * W);
      ids.forEach((id, k) => buffer.set(table.subarray(id * W, id * W + W), k * W));
      combinePieces(buffer, W, 0, ids.length, this.settings.alignment, out, i + 1);
    });
    return out;
  }

  /** Frees the ONNX session, for every view of this checkpoint (`withSettings` shares it). */
  async dispose(): Promise<void> {
    await this.loaded.model.dispose();
  }
}

