// Data-parallel training (src/train/data-parallel.ts): one run trained by W = 2 workers (this
// thread and a worker thread with its own wasm backend) gives the losses and weights of the
// same run trained by one, within 1e-4 over ten seeded steps (dropout on: its masks belong to
// the captions); a resumed trainer hands its restored state to its workers; a worker that
// cannot build its trainer is an error naming the cause.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';
import { splitRows } from '../../src/train/data-parallel';
import type { Trainer } from '../../src/train/trainer';
import { readWeights } from '../../src/train/trainer-state';
import { tinyTrainer, type TinyRecipe } from './tiny-recipe';

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
});

const RECIPE_MODULE = path.join(__dirname, 'tiny-recipe.ts');

function trainer(recipe: TinyRecipe, workers: number): Trainer {
  const t = tinyTrainer(recipe);
  t.useWorkers(workers, { module: RECIPE_MODULE, exportName: 'tinyTrainer', argument: recipe });
  return t;
}

/** `count` steps from `from` on (across epochs); the losses. */
async function steps(t: Trainer, from: number, count: number): Promise<number[]> {
  const losses: number[] = [];
  let k = 0;
  for (let epoch = 0; losses.length < count; epoch++) {
    const plan = t.plan(epoch);
    for (let s = 0; s < plan.length && losses.length < count; s++, k++) {
      if (k >= from) losses.push((await t.trainStep(plan[s], epoch, s, { next: plan[s + 1] })).loss);
    }
  }
  return losses;
}

function assertClose(name: string, a: number[], b: number[], tolerance: number): void {
  assert.equal(a.length, b.length, name);
  a.forEach((x, i) => assert.ok(Number.isFinite(x) && Math.abs(x - b[i]) <= tolerance, `${name} ${i + 1}: ${x} vs ${b[i]}`));
}

function assertSameWeights(a: Trainer, b: Trainer, tolerance: number): void {
  const wa = readWeights(a.captioner.variables());
  for (const [name, w] of readWeights(b.captioner.variables())) {
    const other = wa.get(name)!;
    const worst = w.data.reduce((m, v, k) => Math.max(m, Math.abs(v - other.data[k])), 0);
    assert.ok(worst <= tolerance, `${name}: weights differ by ${worst}`);
  }
}

function dispose(...trainers: Trainer[]): void {
  for (const t of trainers) {
    t.dispose();
    t.captioner.dispose();
  }
}

const CASES: { name: string; recipe: TinyRecipe }[] = [
  { name: 'soft attention, vector gate, dropout 0.5, clip by value', recipe: { decoder: { attentionActivation: 'relu', gate: 'vector' }, options: {}, cnn: false } },
  { name: 'tanh, scalar gate, mean penalty, clip by norm', recipe: { decoder: { gate: 'scalar' }, options: { attentionPenalty: 'mean', clip: { mode: 'norm', value: 1 } }, cnn: false } },
  { name: 'small CNN on pixels, whole-image batches', recipe: { decoder: { gate: 'vector' }, options: { imagesPerBatch: 2 }, cnn: true } },
];

describe('data-parallel training', () => {
  for (const c of CASES) {
    test(`W = 2 trains what W = 1 trains (10 seeded steps, losses and weights within 1e-4): ${c.name}`, async () => {
      const one = trainer(c.recipe, 1);
      const two = trainer(c.recipe, 2);
      try {
        const a = await steps(one, 0, 10);
        const b = await steps(two, 0, 10);
        assert.equal(two.workers, 2);
        assertClose('loss', b, a, 1e-4);
        assertSameWeights(one, two, 1e-4);
      } finally {
        dispose(one, two);
      }
    });
  }

  test('a restored trainer gives its workers the restored state (a resumed run trains on as one that never stopped)', async () => {
    const recipe = CASES[0].recipe;
    const straight = trainer(recipe, 1);
    const first = trainer(recipe, 2);
    const resumed = trainer(recipe, 2);
    try {
      const expected = await steps(straight, 0, 8);
      await steps(first, 0, 4);
      await steps(resumed, 0, 1); // its workers start with the fresh weights …
      const rows = resumed.plan(0)[0];
      tf.dispose([...(await resumed.shardGradients(rows, { epoch: 0, stepInEpoch: 0 })).grads.values()]); // (packs the weights it shares with its workers)
      resumed.restore(first.snapshot()); // … and must get these before the next step
      // Before that step, this thread alone computes with the restored weights, not with what it shares with its workers (compute/shared-panels.ts).
      const [probe, reference] = [await resumed.shardGradients(rows, { epoch: 0, stepInEpoch: 0 }), await first.shardGradients(rows, { epoch: 0, stepInEpoch: 0 })];
      tf.dispose([...probe.grads.values(), ...reference.grads.values()]);
      assertClose('loss with the restored weights, before the workers have them', [probe.loss], [reference.loss], 1e-6);
      const rest = await steps(resumed, 4, 4);
      assertClose('loss after resume', rest, expected.slice(4), 1e-4);
      assertSameWeights(straight, resumed, 1e-4);
    } finally {
      dispose(straight, first, resumed);
    }
  });

  test('more workers than rows: a worker without a shard still updates its share and takes the new weights; the snapshot holds every share of the optimiser state', async () => {
    const recipe: TinyRecipe = { ...CASES[0].recipe, options: { batchSize: 3 } }; // 3 rows a step for 4 threads
    const one = trainer(recipe, 1);
    const four = trainer(recipe, 4);
    try {
      assertClose('loss', await steps(four, 0, 6), await steps(one, 0, 6), 1e-4);
      assertSameWeights(one, four, 1e-4);
      const [a, b] = [one.snapshot().adam, four.snapshot().adam];
      assert.equal(b.step, a.step);
      for (const which of ['m', 'v'] as const) {
        for (const [name, values] of a[which]) assertClose(`${which} of ${name}`, Array.from(b[which].get(name)!), Array.from(values), 1e-5);
      }
    } finally {
      dispose(one, four);
    }
  });

  test('shards are alike: sorted by caption length and dealt in turn, none empty', () => {
    const lengths = [9, 3, 7, 5, 8, 4];
    const shards = splitRows(Int32Array.from([0, 1, 2, 3, 4, 5]), (r) => lengths[r], 2);
    // by length: 0 (9), 4 (8), 2 (7), 3 (5), 5 (4), 1 (3)
    assert.deepEqual(shards.map((s) => Array.from(s)), [[0, 2, 5], [4, 3, 1]]);
    assert.deepEqual(splitRows(Int32Array.from([4]), (r) => lengths[r], 3).map((s) => Array.from(s)), [[4]]);
  });

  test('a worker that cannot build its trainer is an error naming the cause, and nothing leaks', async () => {
    const t = tinyTrainer(CASES[0].recipe);
    t.useWorkers(2, { module: RECIPE_MODULE, exportName: 'noSuchFactory', argument: null });
    const tensors = tf.memory().numTensors;
    try {
      await assert.rejects(() => t.trainStep(t.plan(0)[0], 0, 0), /exports no function "noSuchFactory"/);
      assert.equal(tf.memory().numTensors, tensors);
    } finally {
      dispose(t);
    }
  });
});
