/**
 * Saves a BERT in the folder layout transformers.js loads, the same as a hub checkpoint
 * such as `Xenova/bert-base-uncased`:
 *
 *   DIR/config.json              model_type "bert" and the shape (our notes under "captioning_lab")
 *   DIR/tokenizer.json           BertNormalizer (lowercase), BertPreTokenizer, WordPiece + vocab,
 *                                TemplateProcessing: [CLS] A [SEP] (pairs: [CLS] A [SEP] B [SEP], B typed 1)
 *   DIR/tokenizer_config.json    tokenizer_class "BertTokenizer" (transformers.js requires it)
 *   DIR/special_tokens_map.json, DIR/vocab.txt   for Python's tokenizers too
 *   DIR/onnx/model.onnx          the encoder (onnx-export.ts)
 *
 * The folder is written beside its target and renamed into place, so a folder with
 * `onnx/model.onnx` is always complete.
 */
import * as fs from 'fs';
import * as path from 'path';

import { toHfConfig, type BertConfig } from './config';
import { exportBertOnnx } from './onnx-export';
import { BERT_SPECIAL_TOKENS, CONTINUATION_PREFIX, MAX_INPUT_CHARS_PER_WORD, type WordPieceVocabulary } from './wordpiece';

export const HF_FILES = {
  config: 'config.json',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  specialTokens: 'special_tokens_map.json',
  vocab: 'vocab.txt',
  model: path.join('onnx', 'model.onnx'),
} as const;

/** The `tokenizer.json` of a lower-casing BERT WordPiece tokenizer over `vocabulary`. */
export function bertTokenizerJson(vocabulary: WordPieceVocabulary): Record<string, unknown> {
  const id = (t: string) => {
    const i = vocabulary.idOf(t);
    if (i === undefined) throw new Error(`tokenizer.json: the vocabulary has no ${t}`);
    return i;
  };
  const special = (t: string) => ({ id: t, ids: [id(t)], tokens: [t] });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: BERT_SPECIAL_TOKENS.map((t) => ({ id: id(t), content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': special('[CLS]'), '[SEP]': special('[SEP]') },
    },
    decoder: { type: 'WordPiece', prefix: CONTINUATION_PREFIX, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: CONTINUATION_PREFIX,
      max_input_chars_per_word: MAX_INPUT_CHARS_PER_WORD,
      vocab: Object.fromEntries(vocabulary.pieces.map((p, i) => [p, i])),
    },
  };
}

export function bertTokenizerConfig(maxPositions: number): Record<string, unknown> {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    tokenize_chinese_chars: true,
    strip_accents: null,
    model_max_length: maxPositions,
    clean_up_tokenization_spaces: true,
    unk_token: '[UNK]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    cls_token: '[CLS]',
    mask_token: '[MASK]',
  };
}

export interface BertFolderContent {
  config: BertConfig;
  /** Encoder weights by model.ts's names (the MLM head's are ignored). */
  weights: ReadonlyMap<string, Float32Array>;
  vocabulary: WordPieceVocabulary;
  /** Notes stored in config.json under `captioning_lab` (training facts, outputs). */
  notes?: Record<string, unknown>;
}

/** Writes the folder (replacing one already there) and returns the path of model.onnx. */
export async function writeBertFolder(dir: string, content: BertFolderContent): Promise<string> {
  const { config, vocabulary } = content;
  if (vocabulary.size !== config.vocabSize) throw new Error(`writeBertFolder: the vocabulary has ${vocabulary.size} pieces, the config ${config.vocabSize}`);
  const target = path.resolve(dir);
  const temp = `${target}.tmp-${process.pid}`;
  await fs.promises.rm(temp, { recursive: true, force: true });
  await fs.promises.mkdir(path.join(temp, 'onnx'), { recursive: true });
  try {
    const outputs = ['last_hidden_state', ...Array.from({ length: config.numLayers + 1 }, (_, l) => `hidden_state_${l}`)];
    const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';
    await fs.promises.writeFile(path.join(temp, HF_FILES.config), json(toHfConfig(config, vocabulary.padId, { outputs, ...(content.notes ?? {}) })));
    await fs.promises.writeFile(path.join(temp, HF_FILES.tokenizer), json(bertTokenizerJson(vocabulary)));
    await fs.promises.writeFile(path.join(temp, HF_FILES.tokenizerConfig), json(bertTokenizerConfig(config.maxPositions)));
    await fs.promises.writeFile(
      path.join(temp, HF_FILES.specialTokens),
      json({ unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' }),
    );
    await fs.promises.writeFile(path.join(temp, HF_FILES.vocab), vocabulary.pieces.join('\n') + '\n');
    await fs.promises.writeFile(path.join(temp, HF_FILES.model), exportBertOnnx(config, content.weights));
    await fs.promises.rm(target, { recursive: true, force: true });
    await fs.promises.rename(temp, target);
  } catch (error) {
    await fs.promises.rm(temp, { recursive: true, force: true });
    throw error;
  }
  return path.join(target, HF_FILES.model);
}
