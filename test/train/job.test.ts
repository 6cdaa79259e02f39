// The captioner through the run store: a tiny real training run, then the same config again
// is loaded instead of retrained, and the summary carries every metric with its protocol.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { selectBackend } from '../../src/compute/backend';
import { resolveConfig } from '../../src/config';
import { experiment } from '../../src/tracking';
import { captionerJob } from '../../src/train/job';

test('a tiny captioner trains once, is loaded the second time, and records labelled metrics and captions', async () => {
  await selectBackend({ force: 'wasm', log: null });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'captioner-job-'));
  const config = resolveConfig('quick', {
    data: { dir: path.join(root, 'scenes'), scenes: { images: 40, size: 64, seed: 3, occlusion: 0, captionsPerImage: 5 } },
    // A small CNN keeps the test fast and writes no feature cache into the project's results/.
    encoder: { kind: 'small-cnn', inputSize: 64, normalisation: 'imagenet', cache: { dir: path.join(root, 'features'), dtype: 'float16', batchSize: 16 } },
    decoder: { hidden: 32, attention: 16 },
    words: { dim: 16 },
    train: { epochs: 2, batchSize: 16 },
    decode: { beam: 2, maxLength: 12, lengthPenalty: 0 },
  });
  const first = await experiment(await captionerJob(config, { log: null }), { root, log: () => {}, progress: 'none' });
  assert.equal(first.origin, 'trained');
  assert.equal(first.epochsTrainedNow, 2);

  const second = await experiment(await captionerJob(config, { log: null }), { root, log: () => {}, progress: 'none' });
  assert.equal(second.origin, 'loaded');
  assert.equal(second.epochsTrainedNow, 0, 'the second call trains nothing');
  assert.equal(second.id, first.id);

  const metrics = second.summary.metrics;
  const bleu4 = metrics.find((m) => m.name === 'BLEU-4' && m.split === 'test');
  assert.ok(bleu4, 'test BLEU-4 recorded');
  assert.deepEqual(
    { protocol: bleu4.protocol, beam: bleu4.beam, implementation: bleu4.implementation },
    { protocol: 'free-running', beam: 2, implementation: 'coco-caption' },
  );
  assert.ok(bleu4.value >= 0 && bleu4.value <= 1);
  const valLoss = metrics.find((m) => m.name === 'loss' && m.split === 'val');
  assert.equal(valLoss?.protocol, 'teacher-forced');
  assert.ok(metrics.some((m) => m.name === 'attention-correctness' && m.split === 'test'), 'scenes data gives attention correctness');

  const captions = second.captions('test');
  assert.ok(captions && captions.length > 0, 'captions-test.json written');
  for (const c of captions) assert.equal(typeof c.caption, 'string');
});
