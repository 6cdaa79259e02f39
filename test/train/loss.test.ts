// The training loss: a hand-computed value, an independent per-caption computation, and
// padding that has no effect on the loss or the gradients.
import { strict as assert } from 'node:assert';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';
import { teacherBatch } from '../../src/model/captioner';
import { captionLoss } from '../../src/train/loss';
import { features, tinyCaptioner } from '../model/helpers';

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
});

// Three captions of lengths 5, 3, 2 ids (4, 2, 1 predictions), padded to L = 6, given in
// an order that teacher forcing must sort.
const L = 6;
const CAPTIONS = [
  [1, 4, 2, 0, 0, 0],
  [1, 5, 6, 7, 2, 0],
  [1, 2, 0, 0, 0, 0],
];
const LENGTHS = [3, 5, 2];

function batchOf(rows: number[][], lengths: number[], width = L) {
  const ids = new Int32Array(rows.length * width);
  rows.forEach((r, b) => ids.set(r.slice(0, width), b * width));
  return teacherBatch(ids, Int32Array.from(lengths), width);
}

describe('captionLoss', () => {
  test('teacherBatch sorts by length and lays out real positions time-major', () => {
    const batch = batchOf(CAPTIONS, LENGTHS);
    assert.deepEqual(Array.from(batch.order), [1, 0, 2]);
    assert.equal(batch.T, 4);
    assert.deepEqual(batch.stepSizes, [3, 2, 1, 1]);
    assert.deepEqual(Array.from(batch.realIndex), [0, 1, 2, 3, 4, 6, 9]);
    assert.deepEqual(Array.from(batch.targets), [5, 4, 2, 6, 2, 7, 2]);
  });

  test('equals the hand-computed value when every weight is zero: ln V + alpha_c * attention term', () => {
    const captioner = tinyCaptioner({ V: 8 });
    for (const v of captioner.variables().values()) v.assign(tf.zerosLike(v));
    const x = features(3, 4, 3);
    const sorted = tf.gather(x, tf.tensor1d(Array.from(batchOf(CAPTIONS, LENGTHS).order), 'int32'));
    // Uniform attention (1/4 per region) over 4, 2, 1 steps: sums 1, 0.5, 0.25 per region.
    const attentionSum = (4 * (1 - 1) ** 2 + 4 * (1 - 0.5) ** 2 + 4 * (1 - 0.25) ** 2) / 3; // 13/12
    for (const [reduction, attention] of [['sum', attentionSum], ['mean', attentionSum / 4]] as const) {
      const out = captionLoss(captioner, sorted, batchOf(CAPTIONS, LENGTHS), { alphaC: 0.5, attentionPenalty: reduction, dropout: 0 });
      assert.ok(Math.abs(out.crossEntropy.dataSync()[0] - Math.log(8)) < 1e-6);
      assert.ok(Math.abs(out.attention.dataSync()[0] - attention) < 1e-6, `${reduction}: ${out.attention.dataSync()[0]} vs ${attention}`);
      assert.ok(Math.abs(out.loss.dataSync()[0] - (Math.log(8) + 0.5 * attention)) < 1e-6);
      assert.deepEqual(out.logits.shape, [7, 8]);
      tf.dispose([out.loss, out.crossEntropy, out.attention, out.logits]);
    }
    captioner.dispose();
  });

  test('equals an independent per-caption computation through Decoder.step', () => {
    const captioner = tinyCaptioner({ V: 8, initRange: 1, gate: 'vector' });
    const x = features(3, 4, 3, 21);
    const batch = batchOf(CAPTIONS, LENGTHS);
    const sorted = tf.gather(x, tf.tensor1d(Array.from(batch.order), 'int32'));
    const out = captionLoss(captioner, sorted, batch, { alphaC: 1, attentionPenalty: 'sum', dropout: 0 });
    // Reference: one caption at a time, every step through step(), no sorting, no slicing.
    let nll = 0;
    let tokens = 0;
    let penalty = 0;
    CAPTIONS.forEach((ids, b) => {
      tf.tidy(() => {
        const encoded = captioner.encode(x.slice([b, 0, 0], [1, 4, 3]));
        let state = captioner.decoder.initialState(encoded);
        let alphaSum = tf.zeros([1, 4]);
        for (let t = 0; t < LENGTHS[b] - 1; t++) {
          const vec = captioner.words.embedLast(tf.tensor2d([ids.slice(0, t + 1)], [1, t + 1], 'int32'));
          const step = captioner.decoder.step(captioner.decoder.projectWords(vec), state, encoded);
          state = step.state;
          alphaSum = alphaSum.add(step.alpha);
          nll -= tf.logSoftmax(step.logits!).dataSync()[ids[t + 1]];
          tokens += 1;
        }
        penalty += tf.scalar(1).sub(alphaSum).square().sum().dataSync()[0];
      });
    });
    const expected = nll / tokens + penalty / 3;
    assert.ok(Math.abs(out.loss.dataSync()[0] - expected) < 1e-5, `${out.loss.dataSync()[0]} vs ${expected}`);
    tf.dispose([out.loss, out.crossEntropy, out.attention, out.logits, x, sorted]);
    captioner.dispose();
  });

  test('captions sharing an image encode it once and give the same loss as repeated inputs', () => {
    const captioner = tinyCaptioner({ V: 8, initRange: 1, cnn: true });
    const pixels = tf.tensor4d(Array.from({ length: 2 * 16 * 16 * 3 }, (_, i) => Math.cos(i * 0.37)), [2, 16, 16, 3]);
    // Captions 0 and 2 show image 5, caption 1 image 9.
    const shared = teacherBatch(Int32Array.from(CAPTIONS.flat()), Int32Array.from(LENGTHS), L, [5, 9, 5]);
    assert.deepEqual(Array.from(shared.uniqueImages), [9, 5]); // first use in sorted order: caption 1 (longest), then 0
    assert.deepEqual(Array.from(shared.imageOf), [0, 1, 1]);
    const unique = tf.stack([pixels.slice([1, 0, 0, 0], [1, 16, 16, 3]).squeeze([0]), pixels.slice([0, 0, 0, 0], [1, 16, 16, 3]).squeeze([0])]); // [9, 5]
    const a = captionLoss(captioner, unique, shared, { alphaC: 1, attentionPenalty: 'sum', dropout: 0 });
    const separate = batchOf(CAPTIONS, LENGTHS);
    const repeated = tf.gather(pixels, tf.tensor1d([1, 0, 0], 'int32')); // sorted rows: captions 1, 0, 2 -> images 9, 5, 5
    const b = captionLoss(captioner, repeated, separate, { alphaC: 1, attentionPenalty: 'sum', dropout: 0 });
    assert.ok(Math.abs(a.loss.dataSync()[0] - b.loss.dataSync()[0]) < 1e-6);
    assert.throws(() => captionLoss(captioner, repeated, shared, { alphaC: 1, attentionPenalty: 'sum', dropout: 0 }), /inputs of 3 images for a batch of 2 distinct images/);
    tf.dispose([pixels, unique, repeated, a.loss, a.crossEntropy, a.attention, a.logits, b.loss, b.crossEntropy, b.attention, b.logits]);
    captioner.dispose();
  });

  test('padding positions have no effect on the loss or the gradients', () => {
    const captioner = tinyCaptioner({ V: 8, initRange: 1 });
    const vars = [...captioner.variables().values()];
    const x = features(3, 4, 3, 31);
    const clean = batchOf(CAPTIONS, LENGTHS);
    // The same captions with junk word ids in every padding position and three more padding columns.
    const junk = CAPTIONS.map((r, b) => [...r, 0, 0, 0].map((id, t) => (t < LENGTHS[b] ? id : 3 + ((t * 5 + b) % 5))));
    const noisy = batchOf(junk, LENGTHS, L + 3);
    assert.deepEqual(Array.from(noisy.order), Array.from(clean.order));
    const gradsOf = (batch: ReturnType<typeof batchOf>) => {
      const sorted = tf.gather(x, tf.tensor1d(Array.from(batch.order), 'int32'));
      const { value, grads } = tf.variableGrads(() => captionLoss(captioner, sorted, batch, { alphaC: 1, attentionPenalty: 'sum', dropout: 0.3, dropoutSeed: 5 }).loss, vars);
      const out = { loss: value.dataSync()[0], grads: vars.map((v) => Array.from(grads[v.name].dataSync())) };
      tf.dispose([value, grads, sorted]);
      return out;
    };
    const a = gradsOf(clean);
    const b = gradsOf(noisy);
    assert.equal(a.loss, b.loss);
    a.grads.forEach((g, i) => assert.deepEqual(b.grads[i], g, `gradient of ${vars[i].name}`));
    assert.ok(a.grads.some((g) => g.some((v) => v !== 0)));
    x.dispose();
    captioner.dispose();
  });
});
