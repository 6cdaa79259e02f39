/**
 * The decoder's word inputs a config asks for, made ready before training: a learned table
 * needs nothing ahead; BERT vectors (the `bert` variant) need a BERT loaded and their
 * teacher-forcing inputs computed once for the train and val captions (cached on disk).
 *
 *   const ready = await prepareWordInputs(config, { dataset, vocab, train, val }, { log });
 *   ready?.inputs.id;     // 'bert:…:bidirectional:v…' — part of the run's fingerprints
 *   wordInputsFor(config, vocab, ready);   // what buildCaptioner gives the decoder
 *
 * `words.bert.model: 'pretrain'` is the project's own small BERT, pretrained by masked LM on
 * this dataset's training captions as a run of the run store (tracked, cached: the second
 * call loads it). Anything else is a hub id or a folder for transformers.js (offline unless
 * CAPTIONING_ALLOW_REMOTE_MODELS=1).
 */
import { projectPath } from '../common/project';
import { initBackend } from '../compute/backend';
import type { CaptionDataset } from '../data/dataset';
import { captionRows, type EncodedCaptions } from '../data/encoded-captions';
import type { Vocabulary } from '../data/vocabulary';
import type * as Bert from '../embeddings/bert';
import { BertWordInputs } from '../embeddings/bert/bert-word-inputs';
import type { BertEmbedder } from '../embeddings/bert/embedder';
import { LearnedEmbedding } from '../embeddings/learned';
import { ProjectedWordInputs } from '../embeddings/projected';
import type { WordInputs } from '../embeddings/word-inputs';
import type { CaptionerConfig } from '../config';
import { experiment, findFinishedRun, type Run } from '../tracking';

/**
 * The BERT module, loaded on first use: it brings transformers.js and ONNX Runtime (about half a
 * second at start-up), which commands and configs without BERT never need. `require`, not
 * `import()`: the `captioning` binary registers TypeScript for CommonJS loading only.
 */
function bert(): typeof Bert {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../embeddings/bert') as typeof Bert;
}

/** Word inputs computed ahead (BERT); null for a learned table. */
export interface PreparedWords {
  inputs: BertWordInputs;
  /** Where the BERT came from: the folder or hub id loaded, and the pretraining run when the project trained it. */
  model: { source: string; pretrainingRun?: string };
}

/** Where a config's BERT comes from: a folder or hub id for transformers.js, and the pretraining run when the project trains it. */
export interface BertModelSource {
  source: string;
  /** The tracked masked-LM pretraining run (`words.bert.model: 'pretrain'`). */
  pretraining?: Run;
}

/** The masked-LM pretraining of the project's own BERT on a dataset's training captions (val captions for its held-out loss). */
function ownBertJob(dataset: CaptionDataset): ReturnType<typeof Bert.bertPretrainingJob> {
  const { bertPretrainingJob, captionsOfSplit } = bert();
  return bertPretrainingJob({ captions: captionsOfSplit(dataset, 'train'), validation: captionsOfSplit(dataset, 'val') });
}

/**
 * The config's BERT: for 'pretrain', the project's own small BERT pretrained by masked LM on
 * the dataset's training captions (val captions for its held-out loss) as a run of the run
 * store, trained the first time and loaded after; otherwise the hub id or folder as given.
 */
export async function resolveBertModel(config: CaptionerConfig, dataset: CaptionDataset, options: { log?: ((line: string) => void) | null } = {}): Promise<BertModelSource> {
  const model = config.words.bert.model;
  if (model !== 'pretrain') return { source: model };
  const log = options.log === undefined ? (line: string) => process.stderr.write(line + '\n') : options.log;
  const run = await experiment(ownBertJob(dataset), log ? { log } : { log: () => {}, progress: 'none' });
  log?.(`BERT: ${run.origin} pretraining run ${run.id}`);
  return { source: bert().bertModelDir(run.dir), pretraining: run };
}

/**
 * The id the `bert` variant's word inputs will have, without computing any vector: null for
 * learned words' configs is not asked for; null when it cannot be known without training (the
 * project's own BERT is not pretrained yet) or loading (a hub model not in the cache).
 */
export async function bertWordsFingerprint(config: CaptionerConfig, data: { dataset: CaptionDataset; vocab: Vocabulary }): Promise<string | null> {
  const b = config.words.bert;
  let source = b.model;
  if (b.model === 'pretrain') {
    const run = findFinishedRun(ownBertJob(data.dataset));
    if (!run) return null;
    source = bert().bertModelDir(run.dir);
  }
  let embedder: BertEmbedder;
  try {
    embedder = await bert().BertEmbedder.load(source, { layer: b.layer === null ? 'last' : b.layer, alignment: b.alignment, segmentId: b.segmentId, log: null });
  } catch {
    return null;
  }
  try {
    return BertWordInputs.idFor(embedder, b.mode, data.vocab);
  } finally {
    await embedder.dispose();
  }
}

/**
 * Loads the config's BERT and makes sure the teacher-forcing inputs of the train and val
 * captions are cached (`teacherForcing: false`: only loads it, for decoding); null for
 * learned words.
 */
export async function prepareWordInputs(
  config: CaptionerConfig,
  data: { dataset: CaptionDataset; vocab: Vocabulary; train: EncodedCaptions; val: EncodedCaptions },
  options: { log?: ((line: string) => void) | null; teacherForcing?: boolean } = {},
): Promise<PreparedWords | null> {
  const words = config.words;
  if (words.kind === 'learned') return null;
  const log = options.log === undefined ? (line: string) => process.stderr.write(line + '\n') : options.log;
  await initBackend();
  const b = words.bert;
  const { source, pretraining } = await resolveBertModel(config, data.dataset, { log });
  const embedder = await bert().BertEmbedder.load(source, { layer: b.layer === null ? 'last' : b.layer, alignment: b.alignment, segmentId: b.segmentId, log });
  // Progress (captions/s, ETA) comes from the vector preparation itself (word-vectors.ts).
  const inputs = await BertWordInputs.create(embedder, data.vocab, { mode: b.mode, cacheDir: projectPath(b.cacheDir), log });
  if (options.teacherForcing ?? true) {
    await inputs.prepare([...captionRows(data.train), ...captionRows(data.val)]);
    log?.(`BERT ${b.mode} inputs of ${data.train.offsets.length - 1 + data.val.offsets.length - 1} train and val captions ready (width ${inputs.dim})`);
  }
  return { inputs, model: { source, ...(pretraining ? { pretrainingRun: pretraining.id } : {}) } };
}

/** The word inputs of a fresh captioner: a seeded learned table, or the prepared BERT vectors (projected when asked). */
export function wordInputsFor(config: CaptionerConfig, vocab: Vocabulary, prepared: PreparedWords | null): WordInputs {
  const words = config.words;
  switch (words.kind) {
    case 'learned':
      return new LearnedEmbedding({ vocabularySize: vocab.size, dim: words.dim, seed: config.seed, initRange: config.decoder.initRange });
    case 'bert': {
      if (!prepared) throw new Error('words.kind is "bert" but no BERT inputs were prepared: build the captioner from prepareData(config)');
      // Shared by every captioner of this data: BertWordInputs holds no weights, its dispose frees nothing.
      const shared = prepared.inputs;
      return words.bert.projection ? new ProjectedWordInputs(shared, { dim: words.dim, seed: config.seed }) : shared;
    }
    default: {
      const never: never = words.kind;
      throw new Error(`config key "words.kind": unknown ${JSON.stringify(never)}`);
    }
  }
}
