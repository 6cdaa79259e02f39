/**
 * Contextual word vectors from any BERT-family checkpoint through transformers.js: a hub id
 * (`Xenova/bert-base-uncased`, `Xenova/bert-large-uncased`) or a local folder in the same
 * layout (the project's own BERT, pretrain-job.ts). Offline by default (source.ts).
 *
 *   const bert = await BertEmbedder.load('Xenova/bert-base-uncased', { layer: 'last', alignment: 'sum' });
 *   const [v] = await bert.run([['a', 'dog', 'on', 'a', 'skateboard']]);
 *   v.length === (5 + 1) * bert.width;   // rows: [CLS], then one row per word
 *
 * Each caption (word tokens, lower-cased, as the project's vocabulary holds them) is framed
 * as the report did, `[CLS] pieces… [SEP]`, each word tokenized on its own so that its
 * pieces are known (`triangles` -> `triangle ##s`), and the pieces' vectors are combined
 * per word (alignment.ts). Segment (token type) ids are all `segmentId`: 0 is BERT's
 * convention for a single sentence; the report fed 1 (REPORT_SEGMENT_ID). Sentences are run
 * in batches of similar length, padded, with an attention mask.
 *
 * `layer`: 'last' reads `last_hidden_state`; a number k reads the graph output
 * `hidden_state_k` (0 = the embedding layer's output), which the project's own BERTs export
 * for every layer; hub exports usually have only `last_hidden_state` (transformers.js
 * returns only what the graph outputs), and asking them for another layer is an error that
 * lists what the checkpoint has.
 *
 * Dimensions: B sentences, S pieces, W width (hidden size), n words of a sentence.
 */
import { AutoModel, AutoTokenizer, env, Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import type { Alignment } from '../../config';
import { checkAlignment, combinePieces } from './alignment';
import { readWordEmbeddings } from './onnx-export';
import { resolveBertSource, type BertSource, type SourceOptions } from './source';

/** The segment id the report fed with every piece (BERT's own convention for one sentence is 0). */
export const REPORT_SEGMENT_ID = 1;

/** 'last' (`last_hidden_state`) or a layer number k (`hidden_state_k`, 0 = embeddings). */
export type LayerChoice = 'last' | number;

export interface EmbedderSettings {
  /** Which hidden state (default 'last', as the report: the 12th layer of bert-base). */
  layer: LayerChoice;
  /** How a word's pieces combine (default 'sum', as the report's code ancestry). */
  alignment: Alignment;
  /** Token type id of every piece (default 0, BERT's convention; the report: 1). */
  segmentId: number;
  /** Sentences per ONNX run (default 32). */
  batchSize: number;
}

export const DEFAULT_EMBEDDER_SETTINGS: Readonly<EmbedderSettings> = Object.freeze({ layer: 'last', alignment: 'sum', segmentId: 0, batchSize: 32 });

export interface BertEmbedderOptions extends SourceOptions, Partial<EmbedderSettings> {
  /** One line on load (default stderr; null: silence). */
  log?: ((line: string) => void) | null;
}

/** Pieces of one framed sentence and where each word's pieces lie. */
export interface FramedSentence {
  /** `[CLS]` pieces… `[SEP]`. */
  ids: number[];
  /** Rows [start, end) of each word's pieces in `ids`. */
  spans: [number, number][];
}

/** Raw hidden states of one sentence: one row per piece. */
export interface PieceStates extends FramedSentence {
  /** Row-major [S, W]. */
  rows: Float32Array;
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    fs.createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

function checkSettings(s: EmbedderSettings): EmbedderSettings {
  checkAlignment(s.alignment);
  if (s.layer !== 'last' && !(Number.isInteger(s.layer) && s.layer >= 0)) throw new Error(`BERT layer must be 'last' or a whole number >= 0, got ${JSON.stringify(s.layer)}`);
  if (!Number.isInteger(s.segmentId) || s.segmentId < 0) throw new Error(`BERT segmentId must be a whole number >= 0, got ${s.segmentId}`);
  if (!Number.isInteger(s.batchSize) || s.batchSize < 1) throw new Error(`BERT batchSize must be a whole number >= 1, got ${s.batchSize}`);
  return s;
}

/** What is shared by every view of one loaded checkpoint. */
interface LoadedBert {
  source: BertSource;
  model: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
  config: Record<string, unknown>;
  fingerprint: string;
  outputs: string[];
  width: number;
  numLayers: number;
  maxPositions: number;
  vocabSize: number;
  typeVocabSize: number;
  cls: number;
  sep: number;
  pad: number;
  unk: number;
  pieces: Map<string, number[]>;
  staticTable?: Promise<Float32Array>;
  counters: { sentences: number; runs: number };
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
    this.outputName = layer === 'last' ? 'last_hidden_state' : `hidden_state_${layer}`;
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
    const source = resolveBertSource(model, { allowRemote, hubCacheDir, defaultCacheDir: env.cacheDir });
    // transformers.js reads the global env as well as the per-call flag: keep both offline
    // unless this very load is a permitted download. The cache folder goes through the env
    // too: 4.3.1 looks for tokenizer_config.json in env.cacheDir whatever cache_dir says.
    const previousCacheDir = env.cacheDir;
    env.allowLocalModels = true;
    env.allowRemoteModels = source.remote;
    if (source.cacheDir) env.cacheDir = source.cacheDir;
    const common = { local_files_only: !source.remote, ...(source.cacheDir ? { cache_dir: source.cacheDir } : {}) };
    let tokenizer: PreTrainedTokenizer;
    let loadedModel: PreTrainedModel;
    try {
      tokenizer = await AutoTokenizer.from_pretrained(source.loadName, common);
      loadedModel = await AutoModel.from_pretrained(source.loadName, { ...common, dtype: 'fp32', device: 'cpu' });
    } catch (error) {
      throw new Error(`BERT ${source.request}: transformers.js could not load it from ${source.remote ? 'the hub' : source.folder}: ${(error as Error).message}`);
    } finally {
      env.allowRemoteModels = false;
      env.cacheDir = previousCacheDir;
    }
    const configFile = path.join(source.folder, 'config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    const num = (key: string, fallback?: number): number => {
      const v = config[key];
      if (typeof v === 'number') return v;
      if (fallback !== undefined) return fallback;
      throw new Error(`BERT ${source.request}: ${configFile} has no numeric ${key}`);
    };
    const hash = createHash('sha256');
    for (const f of ['config.json', 'tokenizer.json']) hash.update(fs.readFileSync(path.join(source.folder, f)));
    hash.update(await sha256File(path.join(source.folder, 'onnx', 'model.onnx')));
    const framed = tokenizer.encode('', { add_special_tokens: true });
    if (framed.length !== 2) throw new Error(`BERT ${source.request}: its tokenizer frames an empty text as [${framed}], not [CLS] [SEP]`);
    const session = (loadedModel.sessions as Record<string, { outputNames?: string[] }>).model;
    const loaded: LoadedBert = {
      source,
      model: loadedModel,
      tokenizer,
      config,
      fingerprint: hash.digest('hex').slice(0, 12),
      outputs: [...(session?.outputNames ?? ['last_hidden_state'])],
      width: num('hidden_size'),
      numLayers: num('num_hidden_layers'),
      maxPositions: num('max_position_embeddings', 512),
      vocabSize: num('vocab_size'),
      typeVocabSize: num('type_vocab_size', 2),
      cls: framed[0],
      sep: framed[1],
      pad: typeof tokenizer.pad_token_id === 'number' ? tokenizer.pad_token_id : 0,
      unk: tokenizer.unk_token_id,
      pieces: new Map(),
      counters: { sentences: 0, runs: 0 },
    };
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
    const cache = this.loaded.pieces;
    let ids = cache.get(word);
    if (!ids) {
      if (word === '') throw new Error('BERT: an empty word');
      ids = word === '<unk>' || word === '[UNK]' ? [this.loaded.unk] : this.loaded.tokenizer.encode(word, { add_special_tokens: false });
      if (ids.length === 0) ids = [this.loaded.unk];
      cache.set(word, ids);
    }
    return ids;
  }

  /** `[CLS]` pieces… `[SEP]` of a sentence, with each word's span. */
  frame(words: readonly string[]): FramedSentence {
    const ids = [this.loaded.cls];
    const spans: [number, number][] = [];
    for (const w of words) {
      const p = this.wordPieces(w);
      spans.push([ids.length, ids.length + p.length]);
      ids.push(...p);
    }
    ids.push(this.loaded.sep);
    if (ids.length > this.loaded.maxPositions) {
      throw new Error(`BERT ${this.loaded.source.request}: "${words.join(' ')}" is ${ids.length} pieces with [CLS] and [SEP]; the model has ${this.loaded.maxPositions} positions`);
    }
    return { ids, spans };
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
      const ids = new BigInt64Array(B * S).fill(BigInt(this.loaded.pad));
      const mask = new BigInt64Array(B * S);
      const types = new BigInt64Array(B * S).fill(BigInt(this.settings.segmentId));
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

