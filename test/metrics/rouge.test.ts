// ROUGE-L as pycocoevalcap's rouge.py: LCS per reference, max precision and max recall over
// references, F with beta = 1.2, mean over images. Hand-computed.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { computeRougeL, lcsLength } from '../../src/metrics/rouge';

const B2 = 1.2 * 1.2; // 1.44
const f = (p: number, r: number): number => ((1 + B2) * p * r) / (r + B2 * p);

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.abs(expected), `${what}: got ${actual}, expected ${expected}`);
}

test('lcsLength on small sequences', () => {
  assert.equal(lcsLength([1, 2, 3, 4], [1, 3, 4, 5, 6]), 3);
  assert.equal(lcsLength([1, 2, 3], [4, 5]), 0);
  assert.equal(lcsLength([], [1, 2]), 0);
  assert.equal(lcsLength([1, 2, 1, 2], [2, 1, 2, 1]), 3);
});

test('one reference: F with beta 1.2 weighs recall', () => {
  // hyp "a b c d", ref "a c d e f": LCS "a c d" = 3; P = 3/4, R = 3/5
  // F = 2.44 * 0.75 * 0.6 / (0.6 + 1.44 * 0.75) = 1.098 / 1.68 = 0.653571...
  const { corpus, perImage } = computeRougeL([['a c d e f']], ['a b c d']);
  close(perImage[0], f(0.75, 0.6), 'F');
  close(corpus, 1.098 / 1.68, 'F value');
});

test('precision and recall maxima may come from different references', () => {
  // hyp "a b c d"; ref "a b": LCS 2, P = 2/4, R = 2/2; ref "c d e f g h i": LCS 2, P = 2/4, R = 2/7
  // Pmax = 0.5, Rmax = 1 -> F = 2.44 * 0.5 / (1 + 0.72) = 1.22 / 1.72 = 0.709302
  const { perImage } = computeRougeL([['a b', 'c d e f g h i']], ['a b c d']);
  close(perImage[0], f(0.5, 1), 'F');
  close(perImage[0], 1.22 / 1.72, 'F value');
});

test('no common word gives 0; empty hypothesis gives 0; empty against empty gives 1 (as the toolkit)', () => {
  const { perImage, corpus } = computeRougeL([['x y'], ['a'], ['']], ['a b', '', '']);
  // split(" ") makes "" one empty word: LCS("", "") = 1 -> P = R = 1
  assert.deepEqual(perImage, [0, 0, 1]);
  close(corpus, 1 / 3, 'mean');
});

test('the corpus score is the mean over images', () => {
  // image 1: identical -> 1; image 2: hyp "a b" vs "a c": LCS 1, P = R = 1/2 -> F = 1/2
  const { perImage, corpus } = computeRougeL([['a b c'], ['a c']], ['a b c', 'a b']);
  close(perImage[1], f(0.5, 0.5), 'F image 2');
  assert.equal(perImage[0], 1);
  close(corpus, (1 + 0.5) / 2, 'mean');
});
