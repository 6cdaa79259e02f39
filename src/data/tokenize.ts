/**
 * Word tokens of a caption for the vocabulary, in the spirit of Karpathy's preprocessed
 * split files: lower-cased, punctuation dropped, apostrophes inside words kept
 * ("A man's hat, on a table." -> a man's hat on a table).
 *
 * Karpathy files carry their own `tokens` (which the loader lower-cases and keeps); this
 * tokenizer serves raw COCO annotations and anything written by hand. It is not the PTB
 * tokenizer of the metrics, which must match coco-caption exactly.
 */

/** Lower-cased word tokens of a caption. */
export function vocabularyTokens(raw: string): string[] {
  return raw
    .toLowerCase()
    .normalize('NFC')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[^\p{L}\p{N}']+/gu, ' ')
    .split(' ')
    .map((word) => word.replace(/^'+|'+$/g, ''))
    .filter((word) => word.length > 0);
}
