// The report's BERT variant end to end through the run store: the project's own BERT is
// pretrained on the training captions (a tracked run), the captioner trains on its
// bidirectional vectors and decodes the test split free-running with beam 3, and a second
// call loads both runs instead of training again.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { selectBackend } from '../../src/compute/backend';
import { resolveConfig, VARIANTS } from '../../src/config';
import { experiment, listRuns, RESULTS_ENV_VAR } from '../../src/tracking';
import { captionerJob } from '../../src/train/job';
import { runFingerprints } from '../../src/train/setup';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-variant-'));
const previous = process.env[RESULTS_ENV_VAR];

before(async () => {
  process.env[RESULTS_ENV_VAR] = root; // the BERT pretraining run goes here, not into the project's results/
  await selectBackend({ force: 'wasm', log: null });
});

after(() => {
  if (previous === undefined) delete process.env[RESULTS_ENV_VAR];
  else process.env[RESULTS_ENV_VAR] = previous;
  fs.rmSync(root, { recursive: true, force: true });
});

test('the bert variant pretrains its BERT, trains on bidirectional vectors and decodes with beam 3; the second call loads', async () => {
  const config = resolveConfig('quick', VARIANTS.bert, {
    data: { dir: path.join(root, 'scenes'), scenes: { images: 40, size: 64, seed: 3, occlusion: 0, captionsPerImage: 5 } },
    encoder: { kind: 'small-cnn', inputSize: 64, normalisation: 'imagenet', cache: { dir: path.join(root, 'features'), dtype: 'float16', batchSize: 16 } },
    words: { bert: { cacheDir: path.join(root, 'bert-cache') } },
    decoder: { hidden: 32, attention: 16 },
    train: { epochs: 1, batchSize: 16 },
    decode: { beam: 3, maxLength: 12, lengthPenalty: 0 },
  });
  assert.equal(config.words.bert.mode, 'bidirectional', "the variant defaults to the report's mode");
  const quiet = { root, log: () => {}, progress: 'none' as const };

  const job = await captionerJob(config, { name: 'bert', log: null });
  assert.match(job.fingerprints?.words ?? '', /^bert:.*:bidirectional:/, 'the BERT vectors are part of the run identity');
  const first = await experiment(job, quiet);
  assert.equal(first.origin, 'trained');
  assert.deepEqual(await runFingerprints(config), job.fingerprints, 'the run is found again from fingerprints computed without BERT vectors');
  const pretraining = listRuns({ root }).filter((r) => r.id.startsWith('bert-pretrain-'));
  assert.equal(pretraining.length, 1, 'BERT pretraining is a run of its own');

  const bleu4 = first.summary.metrics.find((m) => m.name === 'BLEU-4' && m.split === 'test');
  assert.ok(bleu4, 'test BLEU-4 recorded');
  assert.deepEqual({ protocol: bleu4.protocol, beam: bleu4.beam }, { protocol: 'free-running', beam: 3 });
  const captions = first.captions('test');
  assert.ok(captions && captions.length > 0 && captions.every((c) => typeof c.caption === 'string'));
  assert.ok(captions.some((c) => c.caption.length > 0), 'free-running decoding produced words');

  const second = await experiment(await captionerJob(config, { name: 'bert', log: null }), quiet);
  assert.equal(second.origin, 'loaded');
  assert.equal(second.id, first.id);
  assert.equal(listRuns({ root }).filter((r) => r.id.startsWith('bert-pretrain-')).length, 1, 'the pretraining was loaded, not repeated');
});
