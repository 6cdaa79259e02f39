/**
 * WordPiece for the project's own BERT: a vocabulary learnt from the training captions, and
 * the tokenizer that BERT's `tokenizer.json` describes (BertNormalizer with lower-casing,
 * BertPreTokenizer, WordPiece greedy longest-match-first with the `##` prefix), written here
 * so that pretraining needs no transformers.js; a test checks it against transformers.js.
 *
 *   const vocab = buildWordPieceVocabulary(counts, { maxSize: 4000 });
 *   const tok = new WordPieceTokenizer(vocab);
 *   tok.tokenize('A red circle');   // ['a', 'red', 'circle']  (ids: tok.encode(...))
 *
 * Why a vocabulary from the corpus, not bert-base-uncased's 30,522 entries: the scene
 * captions use about 70 words; with BERT's table the piece embeddings and the masked-LM
 * output layer would be 30,522 x H, over 99% of it never seen in training, and the MLM
 * softmax over 30,522 pieces would dominate every step's time (about 30x the rest of the
 * quick model). A corpus vocabulary is learnt the way Hugging Face's WordPiece trainer
 * does it (byte-pair merges on the word counts, continuation pieces marked `##`), so the
 * folder still loads as any BERT checkpoint, and unseen words still split into pieces.
 */

/** The special pieces, in id order: `[PAD]` is 0. */
export const BERT_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
export const CONTINUATION_PREFIX = '##';
/** Longer words become `[UNK]` (as Hugging Face's WordPiece default). */
export const MAX_INPUT_CHARS_PER_WORD = 100;

export interface WordPieceVocabularyOptions {
  /** Largest vocabulary, special pieces included (default 4000); the alphabet is always kept whole, even beyond it. */
  maxSize?: number;
  /** A merge needs a pair seen at least this often (default 2). */
  minPairCount?: number;
}

/** Whitespace as BERT's BasicTokenizer sees it. */
function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || /\p{Zs}/u.test(ch);
}

/** Control characters that BertNormalizer's clean_text drops (tab and newlines are whitespace). */
function isControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  return /\p{Cc}|\p{Cf}|\p{Co}|\p{Cs}/u.test(ch);
}

/** BERT's punctuation: every ASCII non-alphanumeric printable, and Unicode category P. */
function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return /\p{P}/u.test(ch);
}

/** CJK ideographs, which BertNormalizer surrounds with spaces. */
function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** BertNormalizer(clean_text, handle_chinese_chars, strip_accents = lowercase = true). */
export function bertNormalize(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
    if (isWhitespace(ch)) out += ' ';
    else if (isChineseChar(cp)) out += ` ${ch} `;
    else out += ch;
  }
  return out.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
}

/** BertPreTokenizer: split on whitespace (dropped) and around every punctuation character (kept). */
export function bertPreTokenize(text: string): string[] {
  const words: string[] = [];
  let current = '';
  for (const ch of text) {
    if (isWhitespace(ch)) {
      if (current) words.push(current);
      current = '';
    } else if (isPunctuation(ch)) {
      if (current) words.push(current);
      words.push(ch);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current) words.push(current);
  return words;
}

/** A WordPiece vocabulary: pieces by id. */
export class WordPieceVocabulary {
  readonly pieces: readonly string[];
  private readonly ids: Map<string, number>;

  constructor(pieces: readonly string[]) {
    BERT_SPECIAL_TOKENS.forEach((token, id) => {
      if (pieces[id] !== token) throw new Error(`WordPiece vocabulary: id ${id} must be ${token}, found ${JSON.stringify(pieces[id])}`);
    });
    this.pieces = pieces;
    this.ids = new Map(pieces.map((p, i) => [p, i]));
    if (this.ids.size !== pieces.length) throw new Error('WordPiece vocabulary: a piece appears twice');
  }

  get size(): number {
    return this.pieces.length;
  }

  idOf(piece: string): number | undefined {
    return this.ids.get(piece);
  }

  get padId(): number {
    return 0;
  }
  get unkId(): number {
    return 1;
  }
  get clsId(): number {
    return 2;
  }
  get sepId(): number {
    return 3;
  }
  get maskId(): number {
    return 4;
  }
  /** Ids that masking may draw as random replacements: every piece but the specials. */
  get firstRegularId(): number {
    return BERT_SPECIAL_TOKENS.length;
  }
}

/** Words of a caption as BERT's normaliser and pre-tokenizer make them. */
export function bertWords(text: string): string[] {
  return bertPreTokenize(bertNormalize(text));
}

/**
 * Learns a WordPiece vocabulary from word counts: the alphabet (each character as a first
 * piece and as a `##` continuation), then byte-pair merges, most frequent pair first (ties:
 * alphabetical), until `maxSize` pieces or no pair is seen `minPairCount` times.
 */
export function buildWordPieceVocabulary(counts: ReadonlyMap<string, number>, options: WordPieceVocabularyOptions = {}): WordPieceVocabulary {
  const maxSize = options.maxSize ?? 4000;
  const minPairCount = options.minPairCount ?? 2;
  if (!Number.isInteger(maxSize) || maxSize < BERT_SPECIAL_TOKENS.length + 1) throw new Error(`WordPiece: maxSize must be a whole number > ${BERT_SPECIAL_TOKENS.length}, got ${maxSize}`);
  const words = [...counts.entries()].filter(([w, c]) => w.length > 0 && w.length <= MAX_INPUT_CHARS_PER_WORD && c > 0).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  // Each word as a list of symbols: first character plain, the rest '##'-prefixed.
  const symbols = words.map(([w]) => [...w].map((ch, i) => (i === 0 ? ch : CONTINUATION_PREFIX + ch)));
  const alphabet = new Set<string>();
  for (const s of symbols) for (const p of s) alphabet.add(p);
  const pieces: string[] = [...BERT_SPECIAL_TOKENS, ...[...alphabet].sort()];
  const known = new Set(pieces);
  const strip = (p: string) => (p.startsWith(CONTINUATION_PREFIX) ? p.slice(CONTINUATION_PREFIX.length) : p);
  while (pieces.length < maxSize) {
    const pairs = new Map<string, number>();
    symbols.forEach((s, i) => {
      const c = words[i][1];
      for (let j = 0; j + 1 < s.length; j++) {
        const key = s[j] + '\u0000' + s[j + 1];
        pairs.set(key, (pairs.get(key) ?? 0) + c);
      }
    });
    let best: string | undefined;
    let bestCount = 0;
    for (const [key, c] of pairs) {
      if (c > bestCount || (c === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = c;
      }
    }
    if (best === undefined || bestCount < minPairCount) break;
    const [a, b] = best.split('\u0000');
    const merged = a + strip(b);
    for (const s of symbols) {
      for (let j = 0; j + 1 < s.length; j++) {
        if (s[j] === a && s[j + 1] === b) s.splice(j, 2, merged);
      }
    }
    if (!known.has(merged)) {
      known.add(merged);
      pieces.push(merged);
    }
  }
  return new WordPieceVocabulary(pieces);
}

/** Word counts of captions after BERT's normaliser and pre-tokenizer. */
export function countBertWords(captions: Iterable<readonly string[]>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const caption of captions) for (const w of bertWords(caption.join(' '))) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

/** The tokenizer `tokenizer.json` describes, for pretraining (transformers.js does the same at embedding time). */
export class WordPieceTokenizer {
  constructor(readonly vocabulary: WordPieceVocabulary) {}

  /** Pieces of one pre-tokenized word: greedy longest match first; `[UNK]` when a part matches nothing. */
  wordPieces(word: string): string[] {
    const chars = [...word];
    if (chars.length > MAX_INPUT_CHARS_PER_WORD) return ['[UNK]'];
    const out: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: string | undefined;
      while (start < end) {
        const sub = (start > 0 ? CONTINUATION_PREFIX : '') + chars.slice(start, end).join('');
        if (this.vocabulary.idOf(sub) !== undefined) {
          found = sub;
          break;
        }
        end -= 1;
      }
      if (found === undefined) return ['[UNK]'];
      out.push(found);
      start = end;
    }
    return out;
  }

  /** Pieces of a text (no `[CLS]`/`[SEP]`). */
  tokenize(text: string): string[] {
    return bertWords(text).flatMap((w) => this.wordPieces(w));
  }

  /** Ids of a text (no `[CLS]`/`[SEP]`). */
  encode(text: string): number[] {
    return this.tokenize(text).map((p) => this.vocabulary.idOf(p) ?? this.vocabulary.unkId);
  }
}
