// CIDEr-D as pycocoevalcap's cider_scorer.py, on tiny corpora computed by hand:
// document frequencies over the evaluated images' references, idf = log(N) - log(max(1, df)),
// clipped cosine per n, Gaussian length penalty (sigma 6) on the bigram counts, mean over
// n = 1..4, / number of references, x 10, mean over images.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { computeCiderD } from '../../src/metrics/cider';

function close(actual: number, expected: number, what: string, rel = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: got ${actual}, expected ${expected}`);
}

const penalty = (delta: number): number => Math.exp(-(delta * delta) / (2 * 6 * 6));

test('three images: df, idf, cosine per order, length penalty, averaging', () => {
  // Image 1: refs "a dog runs", "a dog jumps"; hyp "a dog runs"
  // Image 2: ref  "a cat sits";                hyp "a cat runs fast"
  // Image 3: ref  "the bird";                  hyp "bird"
  // N = 3, ref_len = log 3 =: L (1.0986). df("a") = 2 (images 1 and 2) -> weight
  // log 3 - log 2 =: A (0.4055); every other reference n-gram has df = 1 -> weight L;
  // n-grams no reference has ("fast", "cat runs", ...) get df 1 too -> L.
  const L = Math.log(3);
  const A = Math.log(3) - Math.log(2);

  // Image 1, hyp vs ref "a dog runs": identical vectors -> cos 1 for n = 1, 2, 3; n = 4 has
  //   no 4-grams: both norms 0, the value stays 0. delta = 2 - 2 bigrams = 0.
  // hyp vs ref "a dog jumps": n=1 shares a, dog: (A^2 + L^2) / (A^2 + 2L^2) = 0.5319
  //   n=2 shares "a dog": L^2 / (2 L^2) = 0.5; n=3: 0; n=4: 0.
  // sum over refs per n: [1.5319, 1.5, 1, 0]; mean / 2 refs * 10 = 5.0399
  const i1 = ((1 + (A * A + L * L) / (A * A + 2 * L * L) + (1 + 0.5) + (1 + 0) + 0) / 4 / 2) * 10;
  // Image 2, hyp "a cat runs fast" (3 bigrams) vs "a cat sits" (2 bigrams): delta 1
  //   n=1 shares a, cat: (A^2 + L^2) / (sqrt(A^2 + 3L^2) sqrt(A^2 + 2L^2)) = 0.4390
  //   n=2 shares "a cat": L^2 / (sqrt(3) L sqrt(2) L) = 1/sqrt(6) = 0.4082
  //   n=3, 4: no shared n-gram -> 0. Penalty e^(-1/72) = 0.98621.
  //   (0.4390 + 0.4082) * 0.98621 / 4 * 10 = 2.0888
  const n1 = (A * A + L * L) / (Math.sqrt(A * A + 3 * L * L) * Math.sqrt(A * A + 2 * L * L));
  const i2 = (((n1 + 1 / Math.sqrt(6)) * penalty(1)) / 4) * 10;
  // Image 3, hyp "bird" (0 bigrams) vs "the bird" (1 bigram): delta -1
  //   n=1: L^2 / (L * sqrt(2) L) = 1/sqrt(2); n=2: the hypothesis has no bigram -> 0
  //   0.7071 * 0.98621 / 4 * 10 = 1.7434
  const i3 = (((1 / Math.sqrt(2)) * penalty(-1)) / 4) * 10;

  const { corpus, perImage } = computeCiderD(
    [['a dog runs', 'a dog jumps'], ['a cat sits'], ['the bird']],
    ['a dog runs', 'a cat runs fast', 'bird'],
  );
  close(perImage[0], i1, 'image 1');
  close(perImage[1], i2, 'image 2');
  close(perImage[2], i3, 'image 3');
  close(corpus, (i1 + i2 + i3) / 3, 'corpus');
  close(corpus, 2.95736, 'corpus value', 1e-5);
});

test('clipping: a repeated hypothesis word counts no more than the reference has', () => {
  // Image 1: ref "x y", hyp "x x"; image 2: ref "z", hyp "z". N = 2, weights log 2 =: L.
  // Image 1, n=1: hyp vector {x: 2L}, ref {x: L, y: L}
  //   clipped: min(2L, L) * L = L^2; norms 2L and sqrt(2) L -> 1 / (2 sqrt 2) = 0.3536
  //   (without clipping it would be 2L^2 / (2 sqrt 2 L^2) = 0.7071)
  //   n=2: "x x" is not in the reference -> 0; delta = 1 - 1 = 0
  //   0.3536 / 4 * 10 = 0.8839
  // Image 2: identical one-word captions: n=1 -> 1, no bigrams: 1 / 4 * 10 = 2.5
  const { corpus, perImage } = computeCiderD([['x y'], ['z']], ['x x', 'z']);
  close(perImage[0], (1 / (2 * Math.SQRT2) / 4) * 10, 'image 1');
  assert.equal(perImage[1], 2.5);
  close(corpus, ((1 / (2 * Math.SQRT2) / 4) * 10 + 2.5) / 2, 'corpus');
});

test('the length penalty uses sigma 6 on the difference of bigram counts', () => {
  // Image 1: hyp "a b c d e" (4 bigrams), ref "a b" (1 bigram): delta 3 -> e^(-9/72) = 0.8825
  // Image 2: "q" vs "q", to make N = 2 (with N = 1 every weight is log 1 - log 1 = 0).
  // Image 1, n=1: shares a, b (weight L = log 2 each; c, d, e unseen, also L):
  //   2L^2 / (sqrt(5) L sqrt(2) L) = 2 / sqrt(10); n=2: "a b": L^2 / (2L * L) = 1/2
  //   n=3, 4: 0. (2/sqrt(10) + 1/2) * 0.8825 / 4 * 10
  const { perImage } = computeCiderD([['a b'], ['q']], ['a b c d e', 'q']);
  close(perImage[0], (((2 / Math.sqrt(10) + 0.5) * penalty(3)) / 4) * 10, 'image 1');
  close(penalty(3), 0.8824969025845955, 'e^(-9/72)', 1e-15);
});

test('an n-gram in every image gets idf 0; a one-image corpus scores 0 everywhere', () => {
  // "a" occurs in both images' references: weight log 2 - log 2 = 0, so matching only "a"
  // contributes nothing.
  const both = computeCiderD([['a b'], ['a c']], ['a x', 'a y']);
  assert.deepEqual(both.perImage, [0, 0]);
  // N = 1: ref_len = log 1 = 0 and every weight is 0
  const one = computeCiderD([['a dog runs']], ['a dog runs']);
  assert.deepEqual(one.perImage, [0]);
});

test('CIDEr-D depends on which images are evaluated (document frequencies)', () => {
  // image 1: hyp "a dog sits" vs ref "a dog runs", shared unigrams a, dog
  // with all three images (N = 3): df(a) = df(dog) = 2 -> weight log 1.5 =: w; sits, runs
  //   weight log 3 =: L; n=1 cosine 2w^2 / (2w^2 + L^2) = 0.2141
  // with the first two (N = 2): df(a) = 2 -> 0; dog, sits, runs -> log 2 =: M
  //   n=1 cosine M^2 / (2 M^2) = 0.5
  const refs = [['a dog runs'], ['a cat sits'], ['the dog sleeps']];
  const hyps = ['a dog sits', 'a cat sits', 'the dog sleeps'];
  const all = computeCiderD(refs, hyps);
  const two = computeCiderD(refs.slice(0, 2), hyps.slice(0, 2));
  const w = Math.log(1.5);
  const L = Math.log(3);
  // n=2: bigram "a dog" shared: weights L (df 1) -> L^2 / (2 L^2) = 1/2 in both cases
  close(all.perImage[0], (((2 * w * w) / (2 * w * w + L * L) + 0.5) / 4) * 10, 'N = 3', 1e-9);
  close(two.perImage[0], ((0.5 + 0.5) / 4) * 10, 'N = 2', 1e-12);
});
