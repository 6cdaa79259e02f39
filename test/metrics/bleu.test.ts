// BLEU-1..4 as pycocoevalcap's bleu_scorer.py ('closest'): clipped counts, closest
// reference length (ties to the shorter), the 1e-15 / 1e-9 epsilons, brevity penalty
// exp(1 - 1/ratio) with ratio = (c + 1e-15) / (r + 1e-9). Expectations are computed by hand
// from the counts (shown), then with the toolkit's formula; a relative tolerance of 1e-12
// absorbs the last bit of Math.pow/Math.exp, the exact bits are checked in scorer.test.ts.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { closestReferenceLength, computeBleu } from '../../src/metrics/bleu';

const TINY = 1e-15;
const SMALL = 1e-9;

function close(actual: number, expected: number, what: string, rel = 1e-12): void {
  const ok = actual === expected || Math.abs(actual - expected) <= rel * Math.abs(expected);
  assert.ok(ok, `${what}: got ${actual}, expected ${expected}`);
}

/** BLEU-1..4 from matches m[k], guesses g[k], lengths c and r, as the toolkit does. */
function bleuByHand(m: number[], g: number[], c: number, r: number): number[] {
  const out: number[] = [];
  let product = 1;
  for (let k = 0; k < 4; k++) {
    product *= (m[k] + TINY) / (g[k] + SMALL);
    out.push(Math.pow(product, 1 / (k + 1)));
  }
  const ratio = (c + TINY) / (r + SMALL);
  return ratio < 1 ? out.map((b) => b * Math.exp(1 - 1 / ratio)) : out;
}

function checkAll(actual: number[], expected: number[], what: string): void {
  expected.forEach((e, k) => close(actual[k], e, `${what} BLEU-${k + 1}`));
}

test('no 3- and 4-gram matches: BLEU-3/4 tiny but not zero, set by the epsilons', () => {
  // hyp "a b c d", ref "a b d c"; c = r = 4 (no penalty)
  // 1-grams: a b c d all match -> 4/4; 2-grams: ab bc cd vs ab bd dc -> 1/3
  // 3-grams: abc bcd vs abd bdc -> 0/2; 4-grams: abcd vs abdc -> 0/1
  // BLEU-3 = (1 * 1/3 * 1e-15/2)^(1/3) = (1.667e-16)^(1/3) ~ 5.50e-6
  // BLEU-4 = (1.667e-16 * 1e-15/1)^(1/4) ~ 2.02e-8
  const { corpus, perImage } = computeBleu([['a b d c']], ['a b c d']);
  const expected = bleuByHand([4, 1, 0, 0], [4, 3, 2, 1], 4, 4);
  checkAll(corpus, expected, 'corpus');
  close(corpus[2], 5.5032120781279774e-6, 'BLEU-3 value', 1e-9);
  close(corpus[3], 2.0205155031191437e-8, 'BLEU-4 value', 1e-9);
  assert.ok(corpus[3] > 0);
  checkAll(perImage.map((l) => l[0]), expected, 'per image');
});

test('hypothesis shorter than every reference: brevity penalty e^(1 - r/c)', () => {
  // hyp "a b" (c = 2), refs of length 4 and 6 -> closest r = 4
  // all 1- and 2-grams match: 2/2, 1/1; 3- and 4-grams: 0 of 0 -> 1e-15/1e-9 = 1e-6 each
  // ratio = 2/4 -> penalty e^(1 - 2) = 0.3679; BLEU-3 = (1 * 1 * 1e-6)^(1/3) * 0.3679 = 0.003679
  const { corpus } = computeBleu([['a b c d', 'a b c d e f']], ['a b']);
  checkAll(corpus, bleuByHand([2, 1, 0, 0], [2, 1, 0, 0], 2, 4), 'short');
  close(corpus[0], Math.exp(-1), 'BLEU-1 ~ e^-1', 1e-8);
  close(corpus[2], 0.01 * Math.exp(-1), 'BLEU-3 ~ 0.01 e^-1', 1e-6);
});

test('hypothesis longer than every reference: no penalty, precision drops', () => {
  // hyp "a b c d e f g h" (c = 8), ref "a b c" (r = 3)
  // matches: 3/8, 2/7, 1/6, 0/5 -> BLEU-2 = sqrt(3/8 * 2/7) = 0.3273
  const { corpus } = computeBleu([['a b c']], ['a b c d e f g h']);
  checkAll(corpus, bleuByHand([3, 2, 1, 0], [8, 7, 6, 5], 8, 3), 'long');
  close(corpus[1], Math.sqrt((3 / 8) * (2 / 7)), 'BLEU-2', 1e-8);
});

test('ties in closest reference length go to the shorter reference', () => {
  // hyp of 5 words, refs of 4 and 6 words: both 1 away; the toolkit takes 4 -> ratio 5/4,
  // no penalty. Taking 6 would multiply by e^(1 - 6/5) = 0.8187.
  assert.equal(closestReferenceLength(5, [6, 4]), 4);
  assert.equal(closestReferenceLength(5, [4, 6]), 4);
  assert.equal(closestReferenceLength(5, [7, 3, 6]), 6);
  const { corpus, totals } = computeBleu([['a b c d', 'a b c d e f']], ['a b c d e']);
  assert.equal(totals.referenceLength, 4);
  checkAll(corpus, bleuByHand([5, 4, 3, 2], [5, 4, 3, 2], 5, 4), 'tie');
  // matches: "a b c d e" vs the 6-word ref "a b c d e f": every n-gram is there
  assert.ok(corpus[3] > 0.9999);
});

test('empty hypothesis scores 0 (penalty e^(1 - (r + 1e-9)/1e-15))', () => {
  const { corpus, perImage } = computeBleu([['a b c']], ['']);
  assert.deepEqual(corpus, [0, 0, 0, 0]);
  assert.deepEqual(perImage.map((l) => l[0]), [0, 0, 0, 0]);
});

test('repeated n-grams are clipped by the largest count in any one reference', () => {
  // hyp "the the the the" vs "the cat": "the" clipped to 1 -> 1/4; "the the" 0/3
  const one = computeBleu([['the cat']], ['the the the the']);
  checkAll(one.corpus, bleuByHand([1, 0, 0, 0], [4, 3, 2, 1], 4, 2), 'one ref');
  close(one.corpus[0], 0.25, 'BLEU-1 = 1/4', 1e-9);
  // with "the the dog" as a second reference: "the" max count 2 -> 2/4, "the the" 1 -> 1/3
  // closest length to 4 among 2 and 3 is 3
  const two = computeBleu([['the cat', 'the the dog']], ['the the the the']);
  checkAll(two.corpus, bleuByHand([2, 1, 0, 0], [4, 3, 2, 1], 4, 3), 'two refs');
  close(two.corpus[1], Math.sqrt(0.5 / 3), 'BLEU-2 = sqrt(1/2 * 1/3)', 1e-8);
});

test('one versus five references: more references, more matches, closest length', () => {
  const hyp = 'a man rides a red bike';
  // one reference: "a man riding a bike" (r = 5): 1-grams a man a bike -> 4/6 (a x2 in both)
  // 2-grams: "a man" -> 1/5; 3-grams: 0/4; 4-grams 0/3; c = 6 > r: no penalty
  const one = computeBleu([['a man riding a bike']], [hyp]);
  checkAll(one.corpus, bleuByHand([4, 1, 0, 0], [6, 5, 4, 3], 6, 5), 'one ref');
  // five references add "rides", "red", "red bike", "rides a", "a red", "a red bike", ...
  const five = computeBleu(
    [['a man riding a bike', 'a man rides a bike', 'a red bike', 'someone on a red bike', 'a man is riding a red bicycle']],
    [hyp],
  );
  // 1-grams: a(2, max 2) man rides red bike -> 6/6
  // 2-grams: "a man" "man rides" "rides a" "a red" "red bike" -> 5/5
  // 3-grams: "a man rides" "man rides a" (ref 2), "rides a red" (none), "a red bike" -> 3/4
  // 4-grams: "a man rides a" (ref 2) -> 1/3; lengths 5,5,3,5,7: closest to 6 is 5 (tie 5/7 -> 5)
  checkAll(five.corpus, bleuByHand([6, 5, 3, 1], [6, 5, 4, 3], 6, 5), 'five refs');
});

test('corpus BLEU sums counts over images (it is not the mean of per-image BLEU)', () => {
  // image 1: hyp "a b" vs "a b": 2/2, 1/1, 0/0, 0/0; c = r = 2
  // image 2: hyp "c d e f" vs "c x e f": 3/4, 1/3, 0/2, 0/1; c = r = 4
  // corpus: matches 5, 2, 0, 0 of guesses 6, 4, 2, 1; c = r = 6
  const { corpus, perImage, totals } = computeBleu([['a b'], ['c x e f']], ['a b', 'c d e f']);
  assert.deepEqual(totals, { testLength: 6, referenceLength: 6, guess: [6, 4, 2, 1], correct: [5, 2, 0, 0] });
  checkAll(corpus, bleuByHand([5, 2, 0, 0], [6, 4, 2, 1], 6, 6), 'corpus');
  checkAll(perImage.map((l) => l[0]), bleuByHand([2, 1, 0, 0], [2, 1, 0, 0], 2, 2), 'image 1');
  checkAll(perImage.map((l) => l[1]), bleuByHand([3, 1, 0, 0], [4, 3, 2, 1], 4, 4), 'image 2');
  const meanBleu1 = (perImage[0][0] + perImage[0][1]) / 2; // (1 + 0.75) / 2 = 0.875, not 5/6
  assert.ok(Math.abs(corpus[0] - meanBleu1) > 0.04);
});
