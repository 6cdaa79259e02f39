/**
 * Counting a dataset's words against the vocabulary: `buildVocabulary` counts the training
 * split only (the reference code counted val and test too, leaking their words into the
 * model) and keeps words seen at least minCount times; `vocabularyCoverage` says how much of
 * a split's running text a vocabulary covers.
 *
 *   const vocab = buildVocabulary(dataset, { minCount: 5, maxLength: 50 });
 *   vocab.report;                                  // { captions, overLength, tokens, distinctWords, keptWords, coverage }
 *   vocabularyCoverage(vocab, dataset.images, 'val'); // { tokens, known, fraction, missing: [['zebra', 3], …] }
 */
import { type DatasetImage, type Split } from './dataset';
import { resolveOptions, SPECIAL_TOKENS, Vocabulary, type VocabularyOptions } from './vocabulary';

/**
 * Counts words on the counted splits (train only by default) and keeps those seen at least
 * minCount times. Captions over maxLength are skipped from counting or counted truncated,
 * as the overLength policy says.
 */
export function buildVocabulary(
  dataset: { images: readonly DatasetImage[]; fingerprint?: string },
  options: VocabularyOptions = {},
): Vocabulary {
  const resolved = resolveOptions(options);
  const counted = new Set<Split>(resolved.countSplits);
  const counts = new Map<string, number>();
  let captions = 0;
  let overLength = 0;
  let tokens = 0;
  for (const image of dataset.images) {
    if (!counted.has(image.split)) continue;
    for (const caption of image.captions) {
      captions += 1;
      let words = caption.tokens;
      if (words.length > resolved.maxLength) {
        overLength += 1;
        if (resolved.overLength === 'skip') continue;
        words = words.slice(0, resolved.maxLength);
      }
      for (const raw of words) {
        const word = raw.toLowerCase();
        if ((SPECIAL_TOKENS as readonly string[]).includes(word)) continue;
        counts.set(word, (counts.get(word) ?? 0) + 1);
        tokens += 1;
      }
    }
  }
  if (captions === 0) {
    throw new Error(`vocabulary: no captions in the counted splits (${resolved.countSplits.join(', ')})`);
  }
  const kept = [...counts]
    .filter(([, n]) => n >= resolved.minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const keptTokens = kept.reduce((n, [, c]) => n + c, 0);
  return new Vocabulary({
    options: resolved,
    ...(dataset.fingerprint !== undefined ? { dataset: dataset.fingerprint } : {}),
    words: [...SPECIAL_TOKENS, ...kept.map(([w]) => w)],
    counts: [0, 0, 0, 0, ...kept.map(([, c]) => c)],
    report: {
      captions,
      overLength,
      tokens,
      distinctWords: counts.size,
      keptWords: kept.length,
      coverage: tokens === 0 ? 0 : keptTokens / tokens,
    },
  });
}

/** How much of a split's running text the vocabulary covers, and the commonest missing words. */
export function vocabularyCoverage(
  vocab: Vocabulary,
  images: readonly DatasetImage[],
  split: Split,
  listMissing = 20,
): { tokens: number; known: number; fraction: number; missing: [string, number][] } {
  let tokens = 0;
  let known = 0;
  const missing = new Map<string, number>();
  for (const image of images) {
    if (image.split !== split) continue;
    for (const caption of image.captions) {
      for (const word of caption.tokens) {
        tokens += 1;
        if (vocab.has(word)) known += 1;
        else missing.set(word, (missing.get(word) ?? 0) + 1);
      }
    }
  }
  const top = [...missing].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, listMissing);
  return { tokens, known, fraction: tokens === 0 ? 0 : known / tokens, missing: top };
}
