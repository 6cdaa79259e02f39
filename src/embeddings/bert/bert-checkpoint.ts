/**
 * Loads a BERT-family checkpoint through transformers.js: a hub id
 * (`Xenova/bert-base-uncased`, `Xenova/bert-large-uncased`) or a local folder in the same
 * layout (the project's own BERT, pretrain-job.ts). Offline by default (source.ts).
 *
 *   const loaded = await loadBertCheckpoint('Xenova/bert-base-uncased', {});
 *   loaded.width;      // hidden size W, from config.json
 *   loaded.outputs;    // the graph's outputs, e.g. ['last_hidden_state']
 *
 * What it loads is shared by every view of the checkpoint (BertEmbedder.withSettings): the
 * ONNX session, the tokenizer and its sentence framing (sentence-framing.ts), the shapes
 * from config.json, a fingerprint of the model files, and the run counters.
 */
import { AutoModel, AutoTokenizer, env, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { SentenceFramer } from './sentence-framing';
import { resolveBertSource, type BertSource, type SourceOptions } from './source';

/** What is shared by every view of one loaded checkpoint. */
export interface LoadedBert {
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
  framer: SentenceFramer;
  staticTable?: Promise<Float32Array>;
  counters: { sentences: number; runs: number };
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

/** Loads a checkpoint by hub id or folder (see source.ts for the offline rule). */
export async function loadBertCheckpoint(model: string, options: SourceOptions): Promise<LoadedBert> {
  const source = resolveBertSource(model, { allowRemote: options.allowRemote, hubCacheDir: options.hubCacheDir, defaultCacheDir: env.cacheDir });
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
  const maxPositions = num('max_position_embeddings', 512);
  const unk = tokenizer.unk_token_id;
  return {
    source,
    model: loadedModel,
    tokenizer,
    config,
    fingerprint: hash.digest('hex').slice(0, 12),
    outputs: [...(session?.outputNames ?? ['last_hidden_state'])],
    width: num('hidden_size'),
    numLayers: num('num_hidden_layers'),
    maxPositions,
    vocabSize: num('vocab_size'),
    typeVocabSize: num('type_vocab_size', 2),
    cls: framed[0],
    sep: framed[1],
    pad: typeof tokenizer.pad_token_id === 'number' ? tokenizer.pad_token_id : 0,
    unk,
    framer: new SentenceFramer({
      cls: framed[0],
      sep: framed[1],
      unk,
      maxPositions,
      name: `BERT ${source.request}`,
      encodeWord: (word) => tokenizer.encode(word, { add_special_tokens: false }),
    }),
    counters: { sentences: 0, runs: 0 },
  };
}
