/**
 * Captions as BERT sentences: each caption (word tokens, lower-cased, as the project's
 * vocabulary holds them) is framed as the report did, `[CLS] pieces… [SEP]`, each word
 * tokenized on its own so that its pieces are known (`triangles` -> `triangle ##s`); the
 * embedder (embedder.ts) combines them per word (alignment.ts).
 *
 *   const framer = new SentenceFramer({ cls, sep, unk, maxPositions, name: 'BERT Xenova/bert-base-uncased', encodeWord });
 *   framer.frame(['a', 'triangles']);   // { ids: [CLS, a, triangle, ##s, SEP], spans: [[1, 2], [2, 4]] }
 *
 * A word's pieces are tokenized once per checkpoint and cached.
 */

/** Pieces of one framed sentence and where each word's pieces lie. */
export interface FramedSentence {
  /** `[CLS]` pieces… `[SEP]`. */
  ids: number[];
  /** Rows [start, end) of each word's pieces in `ids`. */
  spans: [number, number][];
}

export interface SentenceFramerOptions {
  /** The `[CLS]`, `[SEP]` and `[UNK]` piece ids. */
  cls: number;
  sep: number;
  unk: number;
  /** Longest framed sentence in pieces. */
  maxPositions: number;
  /** Starts the error messages, e.g. `BERT Xenova/bert-base-uncased`. */
  name: string;
  /** The tokenizer's piece ids of one word, without special tokens. */
  encodeWord: (word: string) => number[];
}

export class SentenceFramer {
  private readonly pieces = new Map<string, number[]>();

  constructor(private readonly options: SentenceFramerOptions) {}

  /** Piece ids of one word (`<unk>` and `[UNK]` give `[UNK]`). */
  wordPieces(word: string): number[] {
    const cache = this.pieces;
    let ids = cache.get(word);
    if (!ids) {
      if (word === '') throw new Error('BERT: an empty word');
      ids = word === '<unk>' || word === '[UNK]' ? [this.options.unk] : this.options.encodeWord(word);
      if (ids.length === 0) ids = [this.options.unk];
      cache.set(word, ids);
    }
    return ids;
  }

  /** `[CLS]` pieces… `[SEP]` of a sentence, with each word's span. */
  frame(words: readonly string[]): FramedSentence {
    const ids = [this.options.cls];
    const spans: [number, number][] = [];
    for (const w of words) {
      const p = this.wordPieces(w);
      spans.push([ids.length, ids.length + p.length]);
      ids.push(...p);
    }
    ids.push(this.options.sep);
    if (ids.length > this.options.maxPositions) {
      throw new Error(`${this.options.name}: "${words.join(' ')}" is ${ids.length} pieces with [CLS] and [SEP]; the model has ${this.options.maxPositions} positions`);
    }
    return { ids, spans };
  }
}
