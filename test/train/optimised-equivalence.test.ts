// The optimised training path (Captioner.teacherForce with the fused recurrence of
// src/model/fused-recurrence.ts, and the wasm speedups of src/compute/wasm-training.ts) gives
// the same gradients as the plain reference (teacherForce without its fused kernels, on the
// stock wasm kernels) on one batch, and the same losses over ten seeded steps within 1e-5,
// for every decoder switch, and the same weights after them.
import { strict as assert } from 'node:assert';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../../src/compute/backend';
import { nativeKernelsAvailable, useNativeKernels } from '../../src/compute/native-kernels';
import { cachedTransposes } from '../../src/compute/wasm-kernel-patches';
import { setWasmSpeedups } from '../../src/compute/wasm-speedups';
import { type DecoderOptions } from '../../src/model/decoder';
import type { TeacherForcingImplementation } from '../../src/train/loss';
import { Trainer, type TrainerOptions } from '../../src/train/trainer';
import { readWeights } from '../../src/train/trainer-state';
import { tinyCaptioner, tinyDataset, tinyInputs, tinyTrainerOptions } from '../model/helpers';

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
  assert.ok(nativeKernelsAvailable(), 'the native kernels are not built (bash scripts/setup.sh)');
});

const OPTIONS = tinyTrainerOptions({ batchSize: 6, seed: 3 });

/** Ten training steps (across epochs) on the tiny dataset; returns the losses and the final weights. */
async function tenSteps(implementation: TeacherForcingImplementation, decoder: Partial<DecoderOptions>, options: Partial<TrainerOptions>, cnn: boolean) {
  const previous = setWasmSpeedups(implementation === 'optimised');
  const data = tinyDataset();
  const captioner = tinyCaptioner({ V: data.vocab.size, cnn, initRange: 0.5, seed: 3, ...decoder });
  const trainer = new Trainer(captioner, { captions: data.train, inputs: tinyInputs(cnn ? 'pixels' : 'features') }, { ...OPTIONS, ...options, teacherForcing: implementation });
  const losses: number[] = [];
  try {
    for (let epoch = 0; losses.length < 10; epoch++) {
      const plan = trainer.plan(epoch);
      for (let s = 0; s < plan.length && losses.length < 10; s++) losses.push((await trainer.trainStep(plan[s], epoch, s)).loss);
    }
    return { losses, weights: readWeights(captioner.variables()) };
  } finally {
    trainer.dispose();
    captioner.dispose();
    setWasmSpeedups(previous);
  }
}

const CASES: { name: string; decoder: Partial<DecoderOptions>; options?: Partial<TrainerOptions>; cnn?: boolean }[] = [
  { name: 'soft attention, ReLU, vector gate (the profiles)', decoder: { attentionActivation: 'relu', gate: 'vector' } },
  { name: 'soft attention, tanh, scalar gate, mean penalty', decoder: { attentionActivation: 'tanh', gate: 'scalar' }, options: { attentionPenalty: 'mean' } },
  { name: 'no gate, alpha_c 0, clip by norm', decoder: { gate: 'none' }, options: { alphaC: 0, clip: { mode: 'norm', value: 1 } } },
  { name: 'mean context (no attention)', decoder: { context: 'mean', gate: 'vector' } },
  { name: 'small CNN on pixels, whole-image batches', decoder: { gate: 'vector' }, options: { imagesPerBatch: 2 }, cnn: true },
];

/** The gradients of one batch's loss (dropout on) under one implementation, by weight name. */
async function oneBatchGradients(implementation: TeacherForcingImplementation, decoder: Partial<DecoderOptions>, options: Partial<TrainerOptions>, cnn: boolean) {
  const previous = setWasmSpeedups(implementation === 'optimised');
  const data = tinyDataset();
  const captioner = tinyCaptioner({ V: data.vocab.size, cnn, initRange: 0.5, seed: 3, ...decoder });
  const trainer = new Trainer(captioner, { captions: data.train, inputs: tinyInputs(cnn ? 'pixels' : 'features') }, { ...OPTIONS, ...options, alphaC: 1, teacherForcing: implementation });
  try {
    const { grads, loss } = await trainer.shardGradients(trainer.plan(0)[0], { epoch: 0, stepInEpoch: 0 });
    const host = new Map([...grads].map(([name, g]) => [name, Float32Array.from(g.dataSync())]));
    tf.dispose([...grads.values()]);
    return { host, loss };
  } finally {
    trainer.dispose();
    captioner.dispose();
    setWasmSpeedups(previous);
  }
}

describe('optimised training equals the reference', () => {
  // The optimised path with the native kernels (native/heap-kernels: products, attention passes) and without them (their tfjs and JavaScript stand-ins).
  for (const [c, native] of CASES.flatMap((c) => [[c, true], [c, false]] as const)) {
    test(`one batch gives the same gradient of every weight (within 1e-4 of its largest entry: float rounding; a wrong term is off by its own size): ${c.name}, native kernels ${native ? 'on' : 'off'}`, async () => {
      const reference = await oneBatchGradients('reference', c.decoder, c.options ?? {}, c.cnn ?? false);
      const previous = useNativeKernels(native);
      const optimised = await oneBatchGradients('optimised', c.decoder, c.options ?? {}, c.cnn ?? false).finally(() => useNativeKernels(previous));
      assert.ok(Math.abs(optimised.loss - reference.loss) <= 1e-6, `loss ${optimised.loss} vs ${reference.loss}`);
      assert.deepEqual([...optimised.host.keys()].sort(), [...reference.host.keys()].sort(), 'the same weights have gradients');
      for (const [name, r] of reference.host) {
        const o = optimised.host.get(name)!;
        const scale = r.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const worst = r.reduce((m, v, k) => Math.max(m, Math.abs(v - o[k])), 0);
        assert.ok(scale > 0, `${name}: a zero gradient checks nothing`);
        assert.ok(worst <= 1e-4 * scale, `${name}: gradients differ by ${worst} (largest entry ${scale})`);
      }
    });
  }

  for (const c of CASES) {
    test(`ten steps give the same losses within 1e-5: ${c.name}`, async () => {
      const reference = await tenSteps('reference', c.decoder, c.options ?? {}, c.cnn ?? false);
      const optimised = await tenSteps('optimised', c.decoder, c.options ?? {}, c.cnn ?? false);
      assert.equal(optimised.losses.length, 10);
      optimised.losses.forEach((loss, i) => {
        assert.ok(Number.isFinite(loss), `step ${i + 1}: loss ${loss}`);
        assert.ok(Math.abs(loss - reference.losses[i]) <= 1e-5, `step ${i + 1}: optimised ${loss}, reference ${reference.losses[i]}`);
      });
      for (const [name, w] of reference.weights) {
        const o = optimised.weights.get(name)!;
        const worst = w.data.reduce((m, v, k) => Math.max(m, Math.abs(v - o.data[k])), 0);
        assert.ok(worst <= 1e-5, `${name}: weights differ by ${worst} after ten steps`);
      }
    });
  }

  test('the optimised step leaks no tensors and frees its cached transposes with their weights', async () => {
    const data = tinyDataset();
    const captioner = tinyCaptioner({ V: data.vocab.size, seed: 3 });
    const trainer = new Trainer(captioner, { captions: data.train, inputs: tinyInputs('features') }, OPTIONS);
    const plan = trainer.plan(0);
    await trainer.trainStep(plan[0], 0, 0); // the first step creates Adam's moments
    const tensors = tf.memory().numTensors;
    await trainer.trainStep(plan[1], 0, 1);
    assert.equal(tf.memory().numTensors, tensors, 'a training step leaked tensors');
    trainer.dispose();
    captioner.dispose();
    assert.equal(cachedTransposes(), 0, 'transposed copies outlived their weights');
  });
});
