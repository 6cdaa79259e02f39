// The paired bootstrap (src/analysis/bootstrap.ts, issue #18) against brute force: for every
// resample, the resampled corpus is built (an image drawn twice appears twice) and scored with
// the coco-caption implementations (computeBleu, computeCiderD), seed by seed; the bootstrap's
// differences must be the same numbers, and its interval their percentiles.
import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import { test } from 'node:test';

import { pairedBootstrap, quantile, resampleDraws } from '../../src/analysis/bootstrap';
import { autoThreads, pairedBootstrapThreads, resampleRanges } from '../../src/analysis/bootstrap-threads';
import { createRng } from '../../src/common/random';
import { computeBleu, computeCiderD } from '../../src/metrics';

const WORDS = ['a', 'red', 'cube', 'blue', 'ball', 'on', 'the', 'left', 'of', 'green', 'cone', 'next', 'to', 'small', 'big'];

/** A caption of 3-9 words from a seeded generator. */
function caption(rng: ReturnType<typeof createRng>): string {
  return Array.from({ length: 3 + rng.int(7) }, () => rng.pick(WORDS)).join(' ');
}

function corpus(images: number) {
  const rng = createRng('bootstrap-test');
  const references = Array.from({ length: images }, () => Array.from({ length: 3 }, () => caption(rng)));
  // The arm copies a reference more often than the baseline does: a real difference.
  const system = (copy: number) => references.map((refs) => (rng.chance(copy) ? refs[rng.int(3)] : caption(rng)));
  return { references, arm: [system(0.6), system(0.6)], reference: [system(0.2), system(0.2)] };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

test('every resample equals a brute-force recomputation of the resampled corpus, and the interval is their percentiles', () => {
  const input = corpus(15);
  const [bleu, cider] = pairedBootstrap(input, { resamples: 40, seed: 7 });
  const draws = resampleDraws(15, 40, 7);
  draws.forEach((draw, r) => {
    const pick = <T>(list: readonly T[]) => Array.from(draw, (i) => list[i]);
    const refs = pick(input.references);
    const side = (lists: string[][]) => ({
      bleu: mean(lists.map((hyps) => computeBleu(refs, pick(hyps)).corpus[3])),
      cider: mean(lists.map((hyps) => computeCiderD(refs, pick(hyps)).corpus)),
    });
    const [a, b] = [side(input.arm), side(input.reference)];
    assert.equal(bleu.differences[r], a.bleu - b.bleu, `resample ${r}: BLEU-4`);
    assert.equal(cider.differences[r], a.cider - b.cider, `resample ${r}: CIDEr-D`);
  });
  const full = (lists: string[][], score: (hyps: string[]) => number) => mean(lists.map(score));
  assert.equal(bleu.arm, full(input.arm, (h) => computeBleu(input.references, h).corpus[3]));
  assert.equal(cider.reference, full(input.reference, (h) => computeCiderD(input.references, h).corpus));
  assert.equal(bleu.difference, bleu.arm - bleu.reference);
  const sorted = Float64Array.from(cider.differences).sort();
  assert.deepEqual([cider.low, cider.high], [quantile(sorted, 0.025), quantile(sorted, 0.975)]);
  assert.equal(cider.excludesZero, cider.low > 0 || cider.high < 0);
  assert.ok(bleu.difference > 0 && cider.difference > 0, 'the arm that copies references scores higher');
});

test('the same seed gives the same draws; an arm against itself has an interval around 0; bad input names what is wrong', () => {
  const input = corpus(12);
  assert.deepEqual(resampleDraws(12, 5, 3), resampleDraws(12, 5, 3));
  assert.notDeepEqual(resampleDraws(12, 5, 3), resampleDraws(12, 5, 4));
  for (const d of pairedBootstrap({ references: input.references, arm: input.arm, reference: input.arm }, { resamples: 30 })) {
    assert.deepEqual([d.difference, d.low, d.high, d.excludesZero], [0, 0, 0, false], d.metric);
  }
  assert.deepEqual([quantile([1, 2, 3, 4], 0.5), quantile([1, 2, 3, 4], 0), quantile([1, 2, 3, 4], 1), quantile([0, 10], 0.25)], [2.5, 1, 4, 2.5]);
  assert.throws(() => pairedBootstrap({ ...input, arm: [input.arm[0].slice(1)] }), /arm seed 1 has 11 hypotheses for 12 test images/);
  assert.throws(() => pairedBootstrap({ ...input, reference: [] }), /at least one seed of hypotheses for each side/);
});

test('on several threads the resamples are the same numbers, in draw order; auto uses one thread for small work', async () => {
  const input = corpus(15);
  const one = pairedBootstrap(input, { resamples: 41, seed: 5 });
  for (const threads of [2, 3]) {
    const many = await pairedBootstrapThreads(input, { resamples: 41, seed: 5, threads });
    many.forEach((d, k) => {
      assert.deepEqual(d.differences, one[k].differences, `${threads} threads, ${d.metric}: every resample`);
      assert.deepEqual([d.arm, d.reference, d.low, d.high, d.resamples], [one[k].arm, one[k].reference, one[k].low, one[k].high, 41]);
    });
  }
  assert.deepEqual(resampleRanges(41, 3), [[0, 13], [13, 27], [27, 41]]);
  assert.deepEqual(resampleRanges(2, 4), [[0, 1], [1, 2]], 'never a thread without a resample');
  assert.equal(autoThreads(input, 1000), 1, '15 images x 4 systems x 1,000 resamples');
  assert.equal(autoThreads({ ...input, references: new Array(5000).fill(input.references[0]) }, 1000), os.availableParallelism(), 'COCO size: every core');
  await assert.rejects(pairedBootstrapThreads({ ...input, reference: [] }, { threads: 2 }), /at least one seed of hypotheses for each side/);
});
