/**
 * N-grams as integers, shared by BLEU and CIDEr-D.
 *
 * Every word gets an id, and every n-gram an id built from its (n-1)-gram prefix and last
 * word, so an n-gram is one integer and counting needs no string keys. A caption becomes
 * its distinct n-grams of each order, in the order the toolkit's `precook` first meets
 * them (order 1 left to right, then order 2, ...): CIDEr-D sums floating-point values in
 * that order, and the last bit of the result depends on it.
 *
 * Captions are split on whitespace as Python's `str.split()` does (which, unlike
 * `split(' ')`, also splits at the non-breaking space the PTB tokenizer puts inside
 * "2 1/2").
 */

/** The largest n-gram order (BLEU-4, CIDEr-D n = 1..4). */
export const MAX_ORDER = 4;

/** Characters Python's `str.split()` treats as whitespace. */
const PY_WHITESPACE = /[\t\n\u000B\u000C\r\u001C-\u001F \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+/;

/** Python's `s.split()`: runs of whitespace separate, no empty strings. */
export function pySplit(s: string): string[] {
  const parts = s.split(PY_WHITESPACE);
  if (parts.length > 0 && parts[0] === '') parts.shift();
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * One caption's n-grams. For order k (1-based) the distinct n-gram ids are
 * `ids[offsets[k-1] .. offsets[k])`, with their counts in `counts` at the same positions.
 */
export interface CaptionNgrams {
  /** Number of words (Python's `len(s.split())`). */
  length: number;
  ids: Int32Array;
  counts: Int32Array;
  /** MAX_ORDER + 1 offsets into ids/counts. */
  offsets: Int32Array;
}

/** Interns words and n-grams of one scoring run. */
export class NgramIndex {
  private readonly words = new Map<string, number>();
  // n-gram (prefix id, last word id) -> id: open addressing with linear probing, one
  // slot = three int32s [prefix, word, id]; id -1 marks an empty slot
  private mask: number;
  private table: Int32Array;
  private filled = 0;
  private nextId = 0;
  /** Per n-gram id: the serial of the caption that saw it last, and its slot there. */
  private seenBy: Int32Array;
  private slot: Int32Array;
  private serial = 0;
  // scratch for encode()
  private wordIds = new Int32Array(64);
  private grams = new Int32Array(64);
  private ids = new Int32Array(256);
  private counts = new Int32Array(256);

  /** `expectedNgrams`: about how many distinct n-grams will be interned (sizes tables). */
  constructor(expectedNgrams = 1 << 15) {
    let size = 1 << 16;
    while (size < expectedNgrams * 2) size *= 2;
    this.mask = size - 1;
    this.table = new Int32Array(size * 3).fill(-1);
    this.seenBy = new Int32Array(Math.max(1024, expectedNgrams)).fill(-1);
    this.slot = new Int32Array(this.seenBy.length);
  }

  /** Number of n-gram ids handed out so far (ids are 0 .. size-1, words included). */
  get size(): number {
    return this.nextId;
  }

  private newId(): number {
    const id = this.nextId++;
    if (id >= this.seenBy.length) {
      const seen = new Int32Array(this.seenBy.length * 2).fill(-1);
      seen.set(this.seenBy);
      this.seenBy = seen;
      const slot = new Int32Array(this.slot.length * 2);
      slot.set(this.slot);
      this.slot = slot;
    }
    return id;
  }

  private wordId(word: string): number {
    let id = this.words.get(word);
    if (id === undefined) {
      id = this.newId();
      this.words.set(word, id);
    }
    return id;
  }

  private static hash(prefix: number, word: number): number {
    return (Math.imul(prefix, 0x9e3779b1) ^ Math.imul(word + 0x7f4a7c15, 0x85ebca77)) >>> 0;
  }

  private extend(prefix: number, word: number): number {
    const table = this.table;
    let i = NgramIndex.hash(prefix, word) & this.mask;
    for (;;) {
      const v = table[3 * i + 2];
      if (v < 0) break;
      if (table[3 * i] === prefix && table[3 * i + 1] === word) return v;
      i = (i + 1) & this.mask;
    }
    const id = this.newId();
    table[3 * i] = prefix;
    table[3 * i + 1] = word;
    table[3 * i + 2] = id;
    if (++this.filled * 2 > this.mask) this.grow();
    return id;
  }

  private grow(): void {
    const old = this.table;
    const size = (this.mask + 1) * 2;
    this.mask = size - 1;
    const table = new Int32Array(size * 3).fill(-1);
    for (let j = 0; j < old.length; j += 3) {
      if (old[j + 2] < 0) continue;
      let i = NgramIndex.hash(old[j], old[j + 1]) & this.mask;
      while (table[3 * i + 2] >= 0) i = (i + 1) & this.mask;
      table[3 * i] = old[j];
      table[3 * i + 1] = old[j + 1];
      table[3 * i + 2] = old[j + 2];
    }
    this.table = table;
  }

  /** The n-grams (n = 1..MAX_ORDER) of a caption given as its words. */
  encode(words: readonly string[]): CaptionNgrams {
    const length = words.length;
    const serial = this.serial++;
    if (length > this.wordIds.length) {
      this.wordIds = new Int32Array(length * 2);
      this.grams = new Int32Array(length * 2);
    }
    if (MAX_ORDER * length > this.ids.length) {
      this.ids = new Int32Array(MAX_ORDER * length * 2);
      this.counts = new Int32Array(MAX_ORDER * length * 2);
    }
    const { wordIds, grams, ids, counts } = this;
    const offsets = new Int32Array(MAX_ORDER + 1);
    for (let i = 0; i < length; i++) wordIds[i] = this.wordId(words[i]);
    // grams[i]: id of the current-order n-gram starting at word i
    let distinct = 0;
    for (let k = 1; k <= MAX_ORDER; k++) {
      offsets[k - 1] = distinct;
      for (let i = 0; i + k <= length; i++) {
        const id = k === 1 ? wordIds[i] : this.extend(grams[i], wordIds[i + k - 1]);
        grams[i] = id;
        if (this.seenBy[id] === serial) {
          counts[this.slot[id]]++;
        } else {
          this.seenBy[id] = serial;
          this.slot[id] = distinct;
          ids[distinct] = id;
          counts[distinct] = 1;
          distinct++;
        }
      }
    }
    offsets[MAX_ORDER] = distinct;
    return { length, ids: ids.slice(0, distinct), counts: counts.slice(0, distinct), offsets };
  }
}
