// Runs trained in parallel processes through the command line and the run store: both
// train, they come back in request order with their own configs, a second call loads them,
// and a failing process reports its own error lines.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { selectBackend } from '../../src/compute/backend';
import { resolveConfig } from '../../src/model/config';
import { RESULTS_ENV_VAR } from '../../src/tracking';
import { trainRuns } from '../../src/train/parallel';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'parallel-runs-'));
const previous = process.env[RESULTS_ENV_VAR];

before(async () => {
  process.env[RESULTS_ENV_VAR] = root; // the child processes inherit it
  await selectBackend({ force: 'wasm', log: null });
});

after(() => {
  if (previous === undefined) delete process.env[RESULTS_ENV_VAR];
  else process.env[RESULTS_ENV_VAR] = previous;
  fs.rmSync(root, { recursive: true, force: true });
});

const tiny = (hidden: number) =>
  resolveConfig('quick', {
    data: { dir: path.join(root, 'scenes'), scenes: { images: 30, size: 64, seed: 4, occlusion: 0, captionsPerImage: 5 } },
    encoder: { kind: 'small-cnn', inputSize: 64, normalisation: 'imagenet' },
    decoder: { hidden, attention: 8 },
    words: { dim: 8 },
    train: { epochs: 1, batchSize: 16 },
    decode: { beam: 2, maxLength: 8, lengthPenalty: 0 },
  });

test('two runs train in two processes, come back in order, and are found without a process the next time', async () => {
  const lines: string[] = [];
  // Generate the shared scenes once first, so the two processes do not both write them.
  const first = await trainRuns([{ name: 'tiny-a', config: tiny(16) }], { workers: 1, log: (l) => lines.push(l) });
  const runs = await trainRuns([{ name: 'tiny-a', config: tiny(16) }, { name: 'tiny-b', config: tiny(24) }], { workers: 2, log: (l) => lines.push(l) });
  assert.equal(runs[0].id, first[0].id, 'the finished run is loaded, not retrained');
  assert.ok(runs[1].id.startsWith('tiny-b-'));
  assert.equal((runs[1].config.config as { decoder: { hidden: number } }).decoder.hidden, 24);
  assert.ok(runs.every((r) => r.summary.status === 'finished'));
  assert.ok(lines.some((l) => l.startsWith('[tiny-b] ')), 'child lines are prefixed with the run name');
  assert.ok(lines.some((l) => /^\[tiny-a\] loaded run /.test(l)));

  // Everything finished: found from the fingerprints in this process, no training process started.
  const again: string[] = [];
  const loaded = await trainRuns([{ name: 'tiny-a', config: tiny(16) }, { name: 'tiny-b', config: tiny(24) }], { workers: 2, log: (l) => again.push(l) });
  assert.deepEqual(loaded.map((r) => r.id), runs.map((r) => r.id));
  assert.ok(!again.some((l) => l.startsWith('training ')), again.join('\n'));
});

test('a failing training process rejects with its error lines', async () => {
  const broken = { ...tiny(16), data: { ...tiny(16).data, source: 'karpathy' as const, dir: path.join(root, 'missing.json') } };
  await assert.rejects(trainRuns([{ name: 'broken', config: broken }], { workers: 1, log: () => {} }), (error: Error) => {
    assert.match(error.message, /training broken failed \(exit code 1\)/);
    assert.match(error.message, /missing\.json/);
    return true;
  });
});
