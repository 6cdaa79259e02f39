// A tiny random BERT for the embedder tests: a hand-made WordPiece vocabulary in which some
// words split into several pieces (triangles -> tri ##angle ##s), hidden 32, 2 layers,
// written in the transformers.js layout into a temporary folder.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { selectBackend } from '../../../src/compute/backend';
import type { BertConfig } from '../../../src/embeddings/bert/config';
import { BertEmbedder } from '../../../src/embeddings/bert/embedder';
import { writeBertFolder } from '../../../src/embeddings/bert/hf-folder';
import { BertModel } from '../../../src/embeddings/bert/model';
import { BERT_SPECIAL_TOKENS, WordPieceVocabulary } from '../../../src/embeddings/bert/wordpiece';

export const TINY_PIECES = [
  ...BERT_SPECIAL_TOKENS,
  'a', 'an', 'the', 'red', 'blue', 'green', 'circle', 'square', 'star', 'left', 'right', 'of', 'on', 'above', 'below',
  'is', 'there', 'big', 'small', 'and', 'tri', '##angle', '##s', '##ry', 'man', 's', "'", 'x', '##x', 'picture',
];

export const TINY_SHAPE: Omit<BertConfig, 'vocabSize'> = { hiddenSize: 32, numLayers: 2, numHeads: 4, intermediateSize: 64, maxPositions: 32, typeVocabSize: 2, layerNormEps: 1e-12 };

export interface TinyBert {
  dir: string;
  config: BertConfig;
  vocabulary: WordPieceVocabulary;
  /** The tfjs model whose weights were exported (the caller disposes it). */
  model: BertModel;
  cleanup(): void;
}

/** Writes the tiny BERT into a fresh temporary folder. Call after the tfjs backend is chosen. */
export async function writeTinyBert(seed = 7): Promise<TinyBert> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-tiny-'));
  const dir = path.join(root, 'model');
  const vocabulary = new WordPieceVocabulary(TINY_PIECES);
  const config: BertConfig = { ...TINY_SHAPE, vocabSize: vocabulary.size };
  const model = new BertModel(config, seed);
  // BERT's 0.02 initialisation makes every word look alike; spread the tables so that tests see clear differences.
  const values = model.weightValues();
  for (const name of ['embeddings.word_embeddings.weight', 'embeddings.position_embeddings.weight', 'embeddings.token_type_embeddings.weight']) {
    const v = values.get(name)!;
    for (let i = 0; i < v.length; i++) v[i] *= 25;
  }
  model.dispose();
  const spread = new BertModel(config, seed, values);
  await writeBertFolder(dir, { config, weights: spread.weightValues(), vocabulary });
  return { dir, config, vocabulary, model: spread, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** Scene-like captions from a small seeded grammar (no dataset needed). */
export function sceneCaptions(n: number, seed = 1): string[][] {
  const colours = ['red', 'blue', 'green', 'yellow', 'purple', 'orange'];
  const shapes = ['circle', 'square', 'triangle', 'star', 'rhombus', 'hexagon'];
  const relations = [['left', 'of'], ['right', 'of'], ['above'], ['below']];
  const sizes = ['big', 'small', 'large', 'tiny'];
  let s = seed >>> 0;
  const pick = <T>(xs: readonly T[]): T => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return xs[(s >>> 16) % xs.length];
  };
  const out: string[][] = [];
  for (let i = 0; i < n; i++) {
    const a = [pick(sizes), pick(colours), pick(shapes)];
    const b = [pick(colours), pick(shapes)];
    const template = i % 3;
    if (template === 0) out.push(['a', ...a, ...pick(relations), 'a', ...b]);
    else if (template === 1) out.push(['there', 'is', 'a', ...a, 'and', 'a', ...b]);
    else out.push(['a', 'picture', 'of', 'a', ...a]);
  }
  return out;
}

/** A tiny BERT written to disk and loaded through transformers.js (wasm backend), with its cleanup. */
export interface LoadedTinyBert {
  tiny: TinyBert;
  bert: BertEmbedder;
  dispose(): Promise<void>;
}

/** Writes the tiny BERT and loads it with remote loading off, as every embedder test does first. */
export async function loadTinyBert(): Promise<LoadedTinyBert> {
  await selectBackend({ force: 'wasm', log: null });
  const tiny = await writeTinyBert();
  const bert = await BertEmbedder.load(tiny.dir, { allowRemote: false, log: null });
  return {
    tiny,
    bert,
    dispose: async () => {
      await bert.dispose();
      tiny.model.dispose();
      tiny.cleanup();
    },
  };
}
