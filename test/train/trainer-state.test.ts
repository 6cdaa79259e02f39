// The trainer's checkpoint state: a snapshot round-trips through the run store's format
// (JSON state + named arrays) unchanged, and a damaged state fails naming the field at fault.
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';

import { selectBackend } from '../../src/compute/backend';
import type { JsonValue } from '../../src/tracking';
import { Trainer } from '../../src/train/trainer';
import { checkTrainerState, trainerCheckpoint, trainerSnapshot } from '../../src/train/trainer-state';
import { tinyCaptioner, tinyDataset, tinyInputs, tinyTrainerOptions } from '../model/helpers';

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
});

test('a trained snapshot round-trips through the checkpoint state and arrays, and restores into a fresh trainer', async () => {
  const data = tinyDataset();
  const captioner = tinyCaptioner({ V: data.vocab.size, initRange: 0.5, seed: 7 });
  const trainer = new Trainer(captioner, { captions: data.train, inputs: tinyInputs('features') }, tinyTrainerOptions());
  await trainer.trainEpoch();
  trainer.endEpoch({ improved: false });
  const snapshot = trainer.snapshot();
  const { state, arrays } = trainerCheckpoint(snapshot);
  const json = JSON.parse(JSON.stringify(state)) as JsonValue; // as the sidecar stores it
  const back = trainerSnapshot(json, arrays, 'test');
  assert.deepEqual(back.progress, snapshot.progress);
  assert.equal(back.progress.epochsWithoutImprovement, 1);
  assert.deepEqual([...back.weights.keys()].sort(), [...snapshot.weights.keys()].sort());
  assert.deepEqual([...back.adam.m.keys()].sort(), [...snapshot.adam.m.keys()].sort());
  assert.equal(back.adam.step, snapshot.adam.step);

  const other = new Trainer(tinyCaptioner({ V: data.vocab.size, initRange: 0.5, seed: 8 }), { captions: data.train, inputs: tinyInputs('features') }, tinyTrainerOptions());
  other.restore(back);
  const restored = other.snapshot();
  for (const [name, w] of snapshot.weights) assert.deepEqual(restored.weights.get(name)!.data, w.data, name);
  assert.deepEqual(restored.progress, snapshot.progress);
  trainer.dispose();
  other.dispose();
  captioner.dispose();
});

test('a damaged trainer state is rejected with the field at fault', () => {
  const good = { progress: { epoch: 2, step: 20, learningRate: 0.01, encoderLearningRate: 0.01, epochsWithoutImprovement: 0, stopped: false }, seed: 1, adam: { step: 20, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } };
  assert.deepEqual(checkTrainerState(good, 'ckpt'), good);
  /** The good state with the field at `path` set to `value` (removed when undefined). */
  const broken = (path: string[], value: JsonValue | undefined): JsonValue => {
    const copy = JSON.parse(JSON.stringify(good));
    let target = copy;
    for (const key of path.slice(0, -1)) target = target[key];
    if (value === undefined) delete target[path[path.length - 1]];
    else target[path[path.length - 1]] = value;
    return copy;
  };
  assert.throws(() => checkTrainerState(broken(['progress', 'epoch'], -1), 'ckpt'), /ckpt: trainer state field "progress\.epoch" should be a whole number >= 0, got -1/);
  assert.throws(() => checkTrainerState(broken(['progress', 'stopped'], 'no'), 'ckpt'), /"progress\.stopped" should be true or false, got "no"/);
  assert.throws(() => checkTrainerState(broken(['adam', 'epsilon'], 0), 'ckpt'), /"adam\.epsilon" should be a number > 0, got 0/);
  assert.throws(() => checkTrainerState(broken(['seed'], undefined), 'ckpt'), /"seed" should be a whole number >= 0, got nothing/);
  assert.throws(() => checkTrainerState(broken(['adam'], null), 'ckpt'), /"adam" should be an object, got null/);
  assert.throws(() => trainerSnapshot(good, new Map([['moments/x', { shape: [1], data: new Float32Array(1) }]]), 'ckpt'), /trainer array "moments\/x" is none of/);
  assert.throws(() => trainerSnapshot(good, new Map(), 'ckpt'), /holds no weights/);
});
