// Greedy and beam search: beam 1 is greedy; a wide beam finds the brute-force best caption;
// probabilities of all captions sum to 1; on table models with hand-written probabilities, a
// narrow beam stops only when no live beam can win (with and without length penalty), greedy
// misses a caption beam search finds, lengthPenalty flips the choice exactly as its formula
// says, and the attention rows are each word's; no tensor leaks.
import { strict as assert } from 'node:assert';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';
import { END_ID } from '../../src/data/vocabulary';
import { beamSearch } from '../../src/model/beam-search';
import { captionLogProb } from '../../src/model/caption-log-prob';
import { greedyDecode } from '../../src/model/greedy-decode';
import { features, type NextWords, tableAttention, tableCaptioner, tableCaptions, tableImages, tinyCaptioner } from './helpers';

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
});

/** Every caption of at most `maxLength` words over `words`: ended ones (with <end>) and cut ones (exactly maxLength words). */
function allCaptions(words: number[], maxLength: number): { words: number[]; ended: boolean }[] {
  const out: { words: number[]; ended: boolean }[] = [];
  const grow = (prefix: number[]) => {
    if (prefix.length === maxLength) {
      out.push({ words: prefix, ended: false });
      return;
    }
    out.push({ words: prefix, ended: true });
    for (const w of words) grow([...prefix, w]);
  };
  grow([]);
  return out;
}

/**
 * A table where lengthPenalty decides (ids: 2 <end>, 4 a, 5 b, 6 c): the short [a] <end>
 * has 0.55 * 0.6, the long [b c c] <end> 0.35 * 0.9 * 0.8 * 0.9.
 */
const shortOrLong: NextWords = (prefix) => {
  const key = prefix.join(' ');
  if (key === '') return { 4: 0.55, 5: 0.35, 2: 0.05 };
  if (key === '4') return { 2: 0.6, 4: 0.2 };
  if (key === '5') return { 6: 0.9 };
  if (key === '5 6') return { 6: 0.8 };
  if (key === '5 6 6') return { 2: 0.9 };
  return { 2: 0.5 };
};

describe('decoding', () => {
  test('beam search with beam 1 equals greedy decoding (words, log-probability, attention)', async () => {
    for (const [context, gate] of [['soft-attention', 'scalar'], ['soft-attention', 'vector'], ['mean', 'none']] as const) {
      const captioner = tinyCaptioner({ V: 9, initRange: 1.5, context, gate });
      const x = features(6, 4, 3);
      const greedy = await greedyDecode(captioner, x, { maxLength: 7 });
      const beam = await beamSearch(captioner, x, { beam: 1, maxLength: 7 });
      greedy.forEach((g, i) => {
        assert.deepEqual(beam[i].words, g.words, `image ${i} (${context}, ${gate})`);
        assert.equal(beam[i].ended, g.ended);
        assert.ok(Math.abs(beam[i].logProb - g.logProb) < 1e-5, `log-probabilities ${beam[i].logProb} vs ${g.logProb}`);
        assert.equal(beam[i].alphas.length, g.words.length * 4);
        beam[i].alphas.forEach((a, k) => assert.ok(Math.abs(a - g.alphas[k]) < 1e-6));
      });
      assert.ok(greedy.some((g) => g.words.length > 0), 'some caption should have words');
      x.dispose();
      captioner.dispose();
    }
  });

  test('a wide beam returns the most probable caption found by brute force; all probabilities sum to 1', async () => {
    const maxLength = 3;
    const V = 7; // <pad> <start> <end> <unk> + 3 words
    const captioner = tinyCaptioner({ V, initRange: 2, seed: 3 });
    const N = 3;
    const x = features(N, 4, 3, 11);
    const candidates = allCaptions([3, 4, 5, 6], maxLength); // <unk> and the 3 words; 85 captions
    assert.equal(candidates.length, 85);
    const scores: number[][] = Array.from({ length: N }, () => []);
    for (const c of candidates) {
      const lp = await captionLogProb(captioner, x, Array(N).fill(c.words), Array(N).fill(c.ended));
      lp.forEach((v, i) => scores[i].push(v));
    }
    const beam = await beamSearch(captioner, x, { beam: 64, maxLength });
    for (let i = 0; i < N; i++) {
      const total = scores[i].reduce((s, v) => s + Math.exp(v), 0);
      assert.ok(Math.abs(total - 1) < 1e-4, `image ${i}: probabilities sum to ${total}`);
      const best = scores[i].indexOf(Math.max(...scores[i]));
      assert.deepEqual(beam[i].words, candidates[best].words, `image ${i}`);
      assert.equal(beam[i].ended, candidates[best].ended);
      assert.ok(Math.abs(beam[i].logProb - scores[i][best]) < 1e-4, `${beam[i].logProb} vs ${scores[i][best]}`);
    }
    // A decoded caption's reported log-probability is the model's.
    const check = await captionLogProb(captioner, x, beam.map((b) => b.words), beam.map((b) => b.ended));
    check.forEach((v, i) => assert.ok(Math.abs(v - beam[i].logProb) < 1e-4));
    // With a length penalty the wide beam returns the brute-force best normalised caption.
    const lengthPenalty = 0.7;
    const penalised = await beamSearch(captioner, x, { beam: 64, maxLength, lengthPenalty });
    for (let i = 0; i < N; i++) {
      const normalised = candidates.map((c, k) => scores[i][k] / Math.pow(c.words.length + (c.ended ? 1 : 0), lengthPenalty));
      const best = normalised.indexOf(Math.max(...normalised));
      assert.deepEqual(penalised[i].words, candidates[best].words, `image ${i}, lengthPenalty ${lengthPenalty}`);
      assert.equal(penalised[i].ended, candidates[best].ended);
    }
    x.dispose();
    captioner.dispose();
  });

  test('a narrow beam does not stop at K finished hypotheses while a live beam can still win (lengthPenalty 0)', async () => {
    // Ids: 2 <end>, 3 <unk>, 4 a, 5 b, 6 c. Image 0 (beam 2): step 0 keeps a (0.5) and b
    // (0.18) and finishes [] (0.3); step 1 finishes [b] (0.162) and [a] (0.04), which makes
    // K = 2 finished hypotheses, while the live [a c] (0.45) still beats them all; it ends
    // at step 2 with 0.5 * 0.9 * 0.99. Image 1, decoded in the same batch, stops at step 1.
    const V = 7;
    const next: NextWords = (prefix, image) => {
      const key = prefix.join(' ');
      if (image === 0) {
        if (key === '') return { 2: 0.3, 4: 0.5, 5: 0.18 };
        if (key === '4') return { 6: 0.9, 2: 0.08 };
        if (key === '5') return { 2: 0.9, 6: 0.06 };
        if (key === '4 6') return { 2: 0.99 };
        return { 2: 0.5 };
      }
      if (key === '') return { 6: 0.7, 5: 0.2 };
      if (key === '6') return { 2: 0.95 };
      return { 2: 0.5 };
    };
    const P = 3;
    const captioner = tableCaptioner(V, next, P);
    const x = tableImages(2, P);
    const out = await beamSearch(captioner, x, { beam: 2, maxLength: 4 });
    const expected = [
      { words: [4, 6], logProb: Math.log(0.5) + Math.log(0.9) + Math.log(0.99) },
      { words: [6], logProb: Math.log(0.7) + Math.log(0.95) },
    ];
    expected.forEach((e, i) => {
      assert.deepEqual(out[i].words, e.words, `image ${i}`);
      assert.equal(out[i].ended, true);
      assert.ok(Math.abs(out[i].logProb - e.logProb) < 1e-5, `image ${i}: ${out[i].logProb} vs ${e.logProb}`);
      // The brute-force best caption of this table is the same one.
      const all = tableCaptions(V, next, 4, i);
      const best = all.reduce((a, b) => (b.logProb > a.logProb ? b : a));
      assert.deepEqual(best.words, e.words);
      // Each word's attention row is that of the step that produced it, exactly.
      const rows = e.words.map((_, t) => tableAttention(e.words.slice(0, t), P));
      assert.deepEqual(Array.from(out[i].alphas), rows.flatMap((r) => Array.from(r)));
    });
    x.dispose();
  });

  test('with lengthPenalty a live beam of lower log-probability can still win: the bound divides by maxLength^lp', async () => {
    // Beam 2, lengthPenalty 1, maxLength 4. [a] ends at step 1 with 0.55 * 0.6 = 0.33,
    // normalised log(0.33) / 2. The live [b c] and then [b c c] have lower log-probabilities
    // (0.315, 0.252) but end as [b c c] <end> with 0.35 * 0.9 * 0.8 * 0.9: log / 4 is higher.
    // By step 2 three hypotheses have finished, so a search stopping at K = 2 misses it.
    const V = 7;
    const next = shortOrLong;
    const captioner = tableCaptioner(V, next);
    const x = tableImages(1);
    const [out] = await beamSearch(captioner, x, { beam: 2, maxLength: 4, lengthPenalty: 1 });
    const long = Math.log(0.35) + Math.log(0.9) + Math.log(0.8) + Math.log(0.9);
    const short = Math.log(0.55) + Math.log(0.6);
    assert.ok(long / 4 > short / 2 && long < short, 'the table is built so');
    assert.deepEqual(out.words, [5, 6, 6]);
    assert.equal(out.ended, true);
    assert.ok(Math.abs(out.logProb - long) < 1e-5, `${out.logProb} vs ${long}`);
    x.dispose();
  });

  test('lengthPenalty flips the choice between a short and a long caption as logProb / length^lp says', async () => {
    const V = 7;
    const maxLength = 4;
    const captioner = tableCaptioner(V, shortOrLong);
    const x = tableImages(1);
    const short = { words: [4], logProb: Math.log(0.55) + Math.log(0.6) }; // length 2 with <end>
    const long = { words: [5, 6, 6], logProb: Math.log(0.35) + Math.log(0.9) + Math.log(0.8) + Math.log(0.9) }; // length 4
    // The lp at which both score the same: log(short) / 2^lp = log(long) / 4^lp.
    const flip = Math.log2(long.logProb / short.logProb);
    assert.ok(flip > 0.3 && flip < 0.7, `flip at ${flip}`);
    const all = tableCaptions(V, shortOrLong, maxLength);
    for (const [lengthPenalty, winner] of [[0, short], [0.3, short], [0.7, long], [1, long], [2, long]] as const) {
      const normalised = (c: { words: number[]; logProb: number }, ended = true) => c.logProb / Math.pow(c.words.length + (ended ? 1 : 0), lengthPenalty);
      // The winner is the brute-force best of the table under this lengthPenalty.
      const best = all.reduce((a, b) => (normalised(b, b.ended) > normalised(a, a.ended) ? b : a));
      assert.deepEqual(best.words, winner.words, `brute force, lengthPenalty ${lengthPenalty}`);
      for (const beam of [2, 64]) {
        const [out] = await beamSearch(captioner, x, { beam, maxLength, lengthPenalty });
        assert.deepEqual(out.words, winner.words, `beam ${beam}, lengthPenalty ${lengthPenalty}`);
        assert.equal(out.ended, true);
        assert.ok(Math.abs(out.logProb - winner.logProb) < 1e-5);
        assert.ok(Math.abs(normalised(out) - normalised(winner)) < 1e-5, `normalised ${normalised(out)} vs ${normalised(winner)}`);
      }
    }
    x.dispose();
  });

  test('greedy misses the most probable caption and beam 2 finds it (exact values)', async () => {
    // Greedy takes a (0.4) over b (0.35), then <end> (0.5): 0.2. Beam 2 also keeps b, whose
    // <end> has 0.9: [b] with 0.315 is the most probable caption.
    const V = 7;
    const next: NextWords = (prefix) => {
      const key = prefix.join(' ');
      if (key === '') return { 4: 0.4, 5: 0.35, 2: 0.2 };
      if (key === '4') return { 2: 0.5 };
      if (key === '5') return { 2: 0.9 };
      return { 2: 0.5 };
    };
    const captioner = tableCaptioner(V, next);
    const x = tableImages(1);
    const [greedy] = await greedyDecode(captioner, x, { maxLength: 4 });
    const [beam] = await beamSearch(captioner, x, { beam: 2, maxLength: 4 });
    assert.deepEqual(greedy.words, [4]);
    assert.ok(Math.abs(greedy.logProb - (Math.log(0.4) + Math.log(0.5))) < 1e-5, `greedy ${greedy.logProb}`);
    assert.deepEqual(beam.words, [5]);
    assert.ok(Math.abs(beam.logProb - (Math.log(0.35) + Math.log(0.9))) < 1e-5, `beam ${beam.logProb}`);
    const all = tableCaptions(V, next, 4);
    assert.deepEqual(all.reduce((a, b) => (b.logProb > a.logProb ? b : a)).words, [5]);
    x.dispose();
  });

  test('captions end at <end> or at maxLength; ids never include <pad> or <start>', async () => {
    const captioner = tinyCaptioner({ V: 9, initRange: 1 });
    const x = features(5, 4, 3, 5);
    for (const out of [await greedyDecode(captioner, x, { maxLength: 4 }), await beamSearch(captioner, x, { beam: 3, maxLength: 4 })]) {
      for (const c of out) {
        assert.ok(c.words.length <= 4);
        assert.ok(c.ended || c.words.length === 4);
        assert.ok(c.words.every((w) => w >= 3 && w !== END_ID));
        assert.ok(Number.isFinite(c.logProb) && c.logProb < 0);
      }
    }
    x.dispose();
    captioner.dispose();
  });

  test('greedy and beam search leak no tensors', async () => {
    const captioner = tinyCaptioner({ V: 9, initRange: 1, cnn: true });
    const x = tf.tensor4d(Array.from({ length: 3 * 16 * 16 * 3 }, (_, i) => Math.sin(i)), [3, 16, 16, 3]);
    await greedyDecode(captioner, x, { maxLength: 5 });
    await beamSearch(captioner, x, { beam: 3, maxLength: 5 });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      await greedyDecode(captioner, x, { maxLength: 5 });
      await beamSearch(captioner, x, { beam: 3, maxLength: 5, lengthPenalty: 0.7 });
      await beamSearch(captioner, x, { beam: 1, maxLength: 5 });
    }
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    captioner.dispose();
  });
});
