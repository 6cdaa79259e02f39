// Checkpoint contents: named tensors, a tfjs layers model (model.json + weights.bin), an
// optimiser's state, JSON; the sidecar lists every file; shape mismatches are errors; adding an
// evaluation to a finished run replaces the metric of the same protocol.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import { BACKEND_ENV_VAR, initBackend } from '../../src/compute/backend';
import { CheckpointReader, experiment, readCheckpoint, recordEvaluation } from '../../src/tracking';
import { writeCheckpoint } from '../../src/tracking/checkpoints';
import { runIdentity } from '../../src/tracking/canonical';
import { mlpJob } from './fixtures/mlp-job';

let tmp: string;
before(async () => {
  process.env[BACKEND_ENV_VAR] = 'cpu';
  await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tracking-ckpt-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function model(seed: number): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 3, inputShape: [4], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }));
  m.add(tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }));
  return m;
}

test('a checkpoint holds a layers model, tensors, optimiser state and JSON, listed in its sidecar', async () => {
  const identity = runIdentity({ config: { a: 1 }, epochs: 2, seed: 3 });
  const saved = model(1);
  const extra = { scale: tf.tensor1d([1, 2, 3]) };
  const optimizer = tf.train.adam(0.1);
  const v = tf.variable(tf.tensor1d([1, -1]));
  for (let i = 0; i < 3; i++) optimizer.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, false, [v]);
  const info = await writeCheckpoint(path.join(tmp, 'checkpoints'), { runId: 'x-1', epoch: 1, step: 3, identity, metrics: { loss: 0.5 } }, async (w) => {
    await w.saveModel('decoder', saved);
    await w.saveTensors('extra', extra);
    await w.saveOptimizer('adam', optimizer);
    await w.saveJson('vocab', { words: ['a', 'b'] });
    await w.saveArrays('trainer', new Map([['weights/decoder.lstm', { shape: [2, 2], data: new Float32Array([0.5, -1.25, 3e-8, 7]) }], ['counts', { shape: [3], data: new Int32Array([1, -2, 3]) }]]));
    w.setState({ bad_epochs: 1 });
  });
  const dir = path.join(tmp, 'checkpoints', 'epoch-0001');
  assert.deepEqual(info.files.map((f) => f.path).sort(), ['adam.bin', 'adam.json', 'decoder/model.json', 'decoder/weights.bin', 'extra.bin', 'extra.json', 'trainer.bin', 'trainer.json', 'vocab.json']);
  for (const f of info.files) assert.equal(fs.statSync(path.join(dir, f.path)).size, f.bytes);
  const modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'decoder', 'model.json'), 'utf8'));
  assert.deepEqual(modelJson.weightsManifest[0].paths, ['weights.bin'], "tfjs's own model.json layout");
  assert.deepEqual(readCheckpoint(dir), info);

  const reader = new CheckpointReader(dir, info);
  const x = tf.tensor2d([[1, 2, 3, 4]]);
  const loaded = await reader.loadModel('decoder');
  assert.deepEqual(Array.from(await (loaded.predict(x) as tf.Tensor).data()), Array.from(await (saved.predict(x) as tf.Tensor).data()));
  const other = model(99);
  await reader.loadModelWeightsInto('decoder', other);
  assert.deepEqual(Array.from(await (other.predict(x) as tf.Tensor).data()), Array.from(await (saved.predict(x) as tf.Tensor).data()));
  assert.deepEqual(Array.from(await (await reader.loadTensors('extra')).scale.data()), [1, 2, 3]);
  assert.deepEqual(reader.readJson('vocab'), { words: ['a', 'b'] });
  const arrays = await reader.loadArrays('trainer');
  assert.deepEqual([...arrays.keys()], ['weights/decoder.lstm', 'counts']);
  assert.deepEqual(arrays.get('weights/decoder.lstm'), { shape: [2, 2], data: new Float32Array([0.5, -1.25, 3e-8, 7]) });
  assert.deepEqual(arrays.get('counts'), { shape: [3], data: new Int32Array([1, -2, 3]) });
  assert.deepEqual(reader.state, { bad_epochs: 1 });
  await assert.rejects(reader.loadTensorsInto('extra', { scale: tf.variable(tf.zeros([4])) }), /tensor scale has shape \[3\], the variable \[4\]/);
  await assert.rejects(reader.loadTensors('nothing'), /checkpoint epoch-0001 has no nothing\.json/);

  // The optimiser continues where it was: same next step as the original.
  const restored = tf.train.adam(0.1);
  const w = tf.variable(v.clone());
  await reader.loadOptimizer('adam', restored);
  optimizer.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, false, [v]);
  restored.minimize(() => tf.sum(tf.square(w)) as tf.Scalar, false, [w]);
  assert.deepEqual(Array.from(await w.data()), Array.from(await v.data()));
  await assert.rejects(reader.loadOptimizer('adam', tf.train.sgd(0.1)), /optimiser adam was a Adam, the job now builds a SGD/);
});

test('recordEvaluation adds captions and metrics to a finished run, replacing the same protocol', async () => {
  const run = await experiment(mlpJob({ epochs: 1 }), { root: tmp, log: () => {}, progress: 'none' });
  const before = run.summary.metrics.length;
  const summary = await recordEvaluation(run, {
    metrics: [
      { name: 'BLEU-4', value: 0.5, split: 'test', protocol: 'free-running', beam: 3, implementation: 'coco-caption' },
      { name: 'CIDEr-D', value: 1.2, split: 'val', protocol: 'free-running', beam: 5, implementation: 'coco-caption' },
    ],
    captions: { val: [{ image_id: 7, caption: 'a green triangle' }] },
  });
  assert.equal(summary.metrics.length, before + 1);
  assert.equal(run.metric('BLEU-4', { beam: 3 })!.value, 0.5);
  assert.equal(run.metric('CIDEr-D')!.beam, 5);
  assert.deepEqual(run.captions('val'), [{ image_id: 7, caption: 'a green triangle' }]);
  assert.ok(run.summary.files.includes('captions-val.json'));
  run.validate();
  await assert.rejects(recordEvaluation(run, { metrics: [{ name: 'BLEU-4', value: NaN, implementation: 'coco-caption' }] }), /metrics\[0\]\.value.*finite number/);
});
