// The paired bootstrap of finished runs (src/analysis/run-bootstrap.ts): three tiny captioners
// trained through the run store (an arm with one seed, a reference with two); on the test captions
// they decoded, the bootstrap's point estimates are exactly their recorded coco-caption scores.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';

import { runsBootstrap } from '../../src/analysis/run-bootstrap';
import { selectBackend } from '../../src/compute/backend';
import { resolveConfig } from '../../src/config';
import { experiment, type Run } from '../../src/tracking';
import { captionerJob } from '../../src/train/job';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'run-bootstrap-'));
const runs: Record<string, Run> = {};

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
  const train = async (name: string, hidden: number, seed: number) => {
    const config = resolveConfig('quick', {
      seed,
      data: { dir: path.join(root, 'scenes'), scenes: { images: 40, size: 64, seed: 3, occlusion: 0, captionsPerImage: 5 } },
      encoder: { kind: 'small-cnn', inputSize: 64, normalisation: 'imagenet', cache: { dir: path.join(root, 'features'), dtype: 'float16', batchSize: 16 } },
      decoder: { hidden, attention: 16 },
      words: { dim: 16 },
      train: { epochs: 2, batchSize: 16 },
      decode: { beam: 1, maxLength: 12, lengthPenalty: 0 },
    });
    runs[name] = await experiment(await captionerJob(config, { log: null, name }), { root, log: () => {}, progress: 'none' });
  };
  await train('arm-s1', 32, 1);
  await train('ref-s1', 16, 1);
  await train('ref-s2', 16, 2);
});

test("on the runs' own test captions, the point estimates are their recorded scores, exactly", async () => {
  const [bleu, cider] = await runsBootstrap([runs['arm-s1']], [runs['ref-s1'], runs['ref-s2']], { resamples: 200, seed: 3 });
  const recorded = (run: Run, name: string) => run.metric(name, { split: 'test', beam: 1 })!.value;
  assert.equal(bleu.arm, recorded(runs['arm-s1'], 'BLEU-4'));
  assert.equal(bleu.reference, (recorded(runs['ref-s1'], 'BLEU-4') + recorded(runs['ref-s2'], 'BLEU-4')) / 2);
  assert.equal(cider.arm, recorded(runs['arm-s1'], 'CIDEr-D'));
  assert.equal(cider.reference, (recorded(runs['ref-s1'], 'CIDEr-D') + recorded(runs['ref-s2'], 'CIDEr-D')) / 2);
  for (const d of [bleu, cider]) {
    assert.equal(d.resamples, 200);
    assert.ok(d.low <= d.high, `${d.metric}: an interval`);
  }
  await assert.rejects(runsBootstrap([runs['arm-s1']], [runs['ref-s1']], { split: 'val' }), new RegExp(`run ${runs['ref-s1'].id} has no captions for the val split`));
  await assert.rejects(runsBootstrap([], [runs['ref-s1']]), /at least one run on each side/);
});
