// Greedy and beam search: beam 1 is greedy; a wide beam finds the brute-force best caption;
// probabilities of all captions sum to 1; no tensor leaks.
import { strict as assert } from 'node:assert';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';
import { END_ID } from '../../src/data/vocabulary';
import { beamSearch, captionLogProb, greedyDecode } from '../../src/model/search';
import { features, tinyCaptioner } from './helpers';

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
    const greedy = await greedyDecode(captioner, x, { maxLength });
    let greedyMissed = 0;
    for (let i = 0; i < N; i++) {
      const total = scores[i].reduce((s, v) => s + Math.exp(v), 0);
      assert.ok(Math.abs(total - 1) < 1e-4, `image ${i}: probabilities sum to ${total}`);
      const best = scores[i].indexOf(Math.max(...scores[i]));
      assert.deepEqual(beam[i].words, candidates[best].words, `image ${i}`);
      assert.equal(beam[i].ended, candidates[best].ended);
      assert.ok(Math.abs(beam[i].logProb - scores[i][best]) < 1e-4, `${beam[i].logProb} vs ${scores[i][best]}`);
      if (greedy[i].words.join() !== candidates[best].words.join()) greedyMissed += 1;
    }
    // A decoded caption's reported log-probability is the model's.
    const check = await captionLogProb(captioner, x, beam.map((b) => b.words), beam.map((b) => b.ended));
    check.forEach((v, i) => assert.ok(Math.abs(v - beam[i].logProb) < 1e-4));
    assert.ok(greedyMissed >= 0);
    x.dispose();
    captioner.dispose();
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
