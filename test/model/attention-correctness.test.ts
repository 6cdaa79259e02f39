// Attention correctness: noun phrases, box coverage of grid cells, and the score.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';

import type { SceneAnnotations } from '../../src/data/scenes/annotations';
import { attentionCorrectness, boxCoverage, nounPhrases } from '../../src/model/attention-correctness';

const scene: SceneAnnotations = {
  width: 64,
  height: 64,
  objects: [
    { shape: 'circle', colour: 'red', size: 'large', box: [0, 0, 32, 32], hidden: 0 },
    { shape: 'cross', colour: 'blue', size: 'small', box: [32, 32, 16, 16], hidden: 0 },
  ],
  occluders: [],
  mentions: [],
};

describe('attention correctness', () => {
  test('noun phrases: size and colour words before a shape noun, two-word nouns', () => {
    assert.deepEqual(nounPhrases('a big red circle to the left of a blue plus sign'.split(' ')), [
      { positions: [1, 2, 3], shape: 'circle', colour: 'red' },
      { positions: [9, 10, 11], shape: 'cross', colour: 'blue' },
    ]);
    assert.deepEqual(nounPhrases('there is a disc'.split(' ')), [{ positions: [3], shape: 'circle' }]);
    assert.deepEqual(nounPhrases('three shapes'.split(' ')), []);
  });

  test('box coverage of a 2 x 2 grid', () => {
    assert.deepEqual(Array.from(boxCoverage([0, 0, 32, 32], 64, 64, [2, 2])), [1, 0, 0, 0]);
    assert.deepEqual(Array.from(boxCoverage([16, 16, 32, 32], 64, 64, [2, 2])), [0.25, 0.25, 0.25, 0.25]);
  });

  test('scores matched words; uniform attention gives ratio 1, attention on the object more', () => {
    const words = 'a red circle and a blue cross and a green star'.split(' ');
    const P = 4; // 2 x 2 grid
    const uniform = new Float32Array(words.length * P).fill(0.25);
    const u = attentionCorrectness([{ words, alphas: uniform, annotations: scene }], { grid: [2, 2] });
    assert.equal(u.matchedPhrases, 2);
    assert.equal(u.unmatchedPhrases, 1); // there is no star
    assert.equal(u.words, 4);
    assert.ok(Math.abs(u.ratio - 1) < 1e-6, `uniform attention: ratio ${u.ratio}`);
    // Attention on the named object's cell: "red circle" -> cell 0, "blue cross" -> cell 3 (covers a quarter of it).
    const focused = new Float32Array(words.length * P);
    for (const t of [1, 2]) focused[t * P + 0] = 1;
    for (const t of [5, 6]) focused[t * P + 3] = 1;
    const f = attentionCorrectness([{ words, alphas: focused, annotations: scene }], { grid: [2, 2] });
    assert.ok(Math.abs(f.meanAttention - (1 + 1 + 0.25 + 0.25) / 4) < 1e-6);
    assert.ok(Math.abs(f.meanArea - (0.25 + 0.25 + 1 / 16 + 1 / 16) / 4) < 1e-6);
    assert.ok(f.ratio > 3.9);
  });

  test('a colour that is not the object is unmatched', () => {
    const words = 'a blue circle'.split(' ');
    const r = attentionCorrectness([{ words, alphas: new Float32Array(3 * 4).fill(0.25), annotations: scene }], { grid: [2, 2] });
    assert.deepEqual([r.matchedPhrases, r.unmatchedPhrases, r.words], [0, 1, 0]);
  });
});
