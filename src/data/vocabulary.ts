/**
 * The word vocabulary: four special tokens, the length policy, the `Vocabulary` itself
 * (word <-> id, encode/decode one caption), save/load as JSON, and a fingerprint that goes
 * into run ids. It is counted on a dataset by build-vocabulary.ts; whole splits are encoded
 * by encoded-captions.ts.
 *
 *   const vocab = Vocabulary.load('results/vocab.json'); // or buildVocabulary(dataset, …)
 *   vocab.encode(['a', 'red', 'circle']);   // [1, 7, 12, 9, 2]: <start> … <end>
 *   vocab.decode([1, 7, 12, 9, 2, 0, 0]);   // ['a', 'red', 'circle']
 *   await vocab.save('results/vocab.json'); // atomic
 *
 * Ids: `<pad>` 0, `<start>` 1, `<end>` 2, `<unk>` 3, then words by descending training count
 * (ties alphabetical), so the same data gives the same ids on every machine.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';

import { writeFileAtomic } from '../common/atomic-write';
import { type Split, SPLITS } from './dataset';

export const PAD = '<pad>';
export const START = '<start>';
export const END = '<end>';
export const UNK = '<unk>';
/** Special tokens in id order: `<pad>` is 0, so zero-filled arrays are padding. */
export const SPECIAL_TOKENS = [PAD, START, END, UNK] as const;
export const PAD_ID = 0;
export const START_ID = 1;
export const END_ID = 2;
export const UNK_ID = 3;

/** What to do with a caption longer than `maxLength` words. */
export type OverLengthPolicy = 'truncate' | 'skip';

export interface VocabularyOptions {
  /** Keep words seen at least this often in the counted splits (default 5; the reference code kept count > 5, i.e. 6). */
  minCount?: number;
  /** Most words of a caption, `<start>`/`<end>` not counted (default 50, as the reference code). */
  maxLength?: number;
  /** Longer captions are cut to `maxLength` or skipped (default 'skip', as the reference code). */
  overLength?: OverLengthPolicy;
  /** Splits whose words are counted (default: train only). */
  countSplits?: Split[];
}

export interface ResolvedVocabularyOptions {
  minCount: number;
  maxLength: number;
  overLength: OverLengthPolicy;
  countSplits: Split[];
}

export const DEFAULT_VOCABULARY_OPTIONS: ResolvedVocabularyOptions = {
  minCount: 5,
  maxLength: 50,
  overLength: 'skip',
  countSplits: ['train'],
};

/** What building the vocabulary counted. */
export interface VocabularyReport {
  /** Captions of the counted splits. */
  captions: number;
  /** Of those, longer than maxLength: skipped from counting, or counted truncated. */
  overLength: number;
  /** Word tokens counted. */
  tokens: number;
  /** Distinct words seen. */
  distinctWords: number;
  /** Words kept (special tokens not included). */
  keptWords: number;
  /** Fraction of counted tokens that are kept words. */
  coverage: number;
}

/** The JSON file a vocabulary is saved as. */
export interface VocabularyFile {
  format: 'captioning-lab vocabulary';
  version: 1;
  fingerprint: string;
  options: ResolvedVocabularyOptions;
  /** Fingerprint of the dataset it was counted on, when known. */
  dataset?: string;
  /** Every token by id, the special tokens first. */
  words: string[];
  /** Training count of every token by id (0 for the special tokens). */
  counts: number[];
  report: VocabularyReport;
}

const FORMAT = 'captioning-lab vocabulary';

/** Options with their defaults filled in, checked; throws naming the bad one. */
export function resolveOptions(options: VocabularyOptions): ResolvedVocabularyOptions {
  const resolved = { ...DEFAULT_VOCABULARY_OPTIONS, ...options };
  if (!Number.isInteger(resolved.minCount) || resolved.minCount < 1) {
    throw new Error(`vocabulary: minCount must be a whole number >= 1, got ${resolved.minCount}`);
  }
  if (!Number.isInteger(resolved.maxLength) || resolved.maxLength < 1) {
    throw new Error(`vocabulary: maxLength must be a whole number >= 1, got ${resolved.maxLength}`);
  }
  if (resolved.overLength !== 'truncate' && resolved.overLength !== 'skip') {
    throw new Error(`vocabulary: overLength must be 'truncate' or 'skip', got ${JSON.stringify(resolved.overLength)}`);
  }
  for (const split of resolved.countSplits) {
    if (!(SPLITS as readonly string[]).includes(split)) {
      throw new Error(`vocabulary: countSplits has ${JSON.stringify(split)}; use ${SPLITS.join(', ')}`);
    }
  }
  return { ...resolved, countSplits: [...resolved.countSplits] };
}

/** Short SHA-256 of what decides encodings: the words in id order and the length policy. */
function vocabularyFingerprint(words: readonly string[], options: ResolvedVocabularyOptions): string {
  const canonical = JSON.stringify({ version: 1, words, maxLength: options.maxLength, overLength: options.overLength });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

export class Vocabulary {
  /** Token of every id. */
  readonly words: readonly string[];
  /** Training count of every id (0 for special tokens). */
  readonly counts: readonly number[];
  readonly options: ResolvedVocabularyOptions;
  readonly report: VocabularyReport;
  /** Fingerprint of the dataset it was counted on, when known. */
  readonly dataset?: string;
  /** Short SHA-256 of the words and the length policy; goes into run ids. */
  readonly fingerprint: string;
  private readonly ids: Map<string, number>;

  constructor(file: Omit<VocabularyFile, 'format' | 'version' | 'fingerprint'>) {
    SPECIAL_TOKENS.forEach((token, id) => {
      if (file.words[id] !== token) throw new Error(`vocabulary: id ${id} must be ${token}, found ${JSON.stringify(file.words[id])}`);
    });
    if (file.counts.length !== file.words.length) {
      throw new Error(`vocabulary: ${file.words.length} words but ${file.counts.length} counts`);
    }
    this.words = file.words;
    this.counts = file.counts;
    this.options = resolveOptions(file.options);
    this.report = file.report;
    if (file.dataset !== undefined) this.dataset = file.dataset;
    this.ids = new Map(file.words.map((word, id) => [word, id]));
    if (this.ids.size !== file.words.length) throw new Error('vocabulary: a word appears twice');
    this.fingerprint = vocabularyFingerprint(this.words, this.options);
  }

  /** Number of ids, special tokens included. */
  get size(): number {
    return this.words.length;
  }

  /** Id of a word; `<unk>`'s id when unknown. */
  idOf(word: string): number {
    return this.ids.get(word.toLowerCase()) ?? UNK_ID;
  }

  /** True when the word has its own id. */
  has(word: string): boolean {
    return this.ids.has(word.toLowerCase());
  }

  /** Word of an id; throws on an id outside the vocabulary. */
  wordOf(id: number): string {
    const word = this.words[id];
    if (word === undefined) throw new Error(`vocabulary: id ${id} is outside 0..${this.size - 1}`);
    return word;
  }

  /**
   * `<start>`, the word ids, `<end>`; unknown words become `<unk>`; a caption longer than
   * maxLength words is cut to its first maxLength words (datasets apply the overLength
   * policy before encoding, see `encodeCaptions`).
   */
  encode(tokens: readonly string[]): number[] {
    const ids = [START_ID];
    const n = Math.min(tokens.length, this.options.maxLength);
    for (let i = 0; i < n; i++) ids.push(this.idOf(tokens[i]));
    ids.push(END_ID);
    return ids;
  }

  /** Words of ids: `<start>` and `<pad>` dropped, stops at the first `<end>`. */
  decode(ids: ArrayLike<number>): string[] {
    const words: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === END_ID) break;
      if (id === START_ID || id === PAD_ID) continue;
      words.push(this.wordOf(id));
    }
    return words;
  }

  toJSON(): VocabularyFile {
    return {
      format: FORMAT,
      version: 1,
      fingerprint: this.fingerprint,
      options: this.options,
      ...(this.dataset !== undefined ? { dataset: this.dataset } : {}),
      words: [...this.words],
      counts: [...this.counts],
      report: this.report,
    };
  }

  /** Writes the vocabulary as JSON, atomically. */
  async save(file: string): Promise<void> {
    await writeFileAtomic(file, JSON.stringify(this.toJSON(), null, 1) + '\n');
  }

  /** Reads a saved vocabulary; a file whose fingerprint does not match its words is rejected. */
  static load(file: string): Vocabulary {
    let json: VocabularyFile;
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8')) as VocabularyFile;
    } catch (error) {
      throw new Error(`vocabulary ${file}: cannot read it: ${(error as Error).message}`);
    }
    if (json.format !== FORMAT || json.version !== 1) {
      throw new Error(`vocabulary ${file}: not a version 1 captioning-lab vocabulary (format ${JSON.stringify(json.format)}, version ${JSON.stringify(json.version)})`);
    }
    if (!Array.isArray(json.words) || !json.words.every((w) => typeof w === 'string')) {
      throw new Error(`vocabulary ${file}: field "words" must be a list of strings`);
    }
    if (!Array.isArray(json.counts) || !json.counts.every((c) => Number.isInteger(c) && c >= 0)) {
      throw new Error(`vocabulary ${file}: field "counts" must be a list of whole numbers`);
    }
    let vocab: Vocabulary;
    try {
      vocab = new Vocabulary(json);
    } catch (error) {
      throw new Error(`vocabulary ${file}: ${(error as Error).message.replace(/^vocabulary: /, '')}`);
    }
    if (vocab.fingerprint !== json.fingerprint) {
      throw new Error(`vocabulary ${file}: fingerprint ${JSON.stringify(json.fingerprint)} does not match its content (${vocab.fingerprint}); the file was edited`);
    }
    return vocab;
  }
}
