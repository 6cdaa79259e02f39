// Runs trained in parallel processes through the command line and the run store: both
// train, they come back in request order with their own configs, a second call loads them,
// a failing process reports its own error, shared inputs are prepared by one child only, the
// same content under two names trains once, and a run that cannot be loaded is an error.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { selectBackend } from '../../src/compute/backend';
import { resolveConfig } from '../../src/config';
import { listRuns, RESULTS_ENV_VAR } from '../../src/tracking';
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

const tinyOverrides = (hidden: number) => ({
  data: { dir: path.join(root, 'scenes'), scenes: { images: 30, size: 64, seed: 4, occlusion: 0, captionsPerImage: 5 } },
  decoder: { hidden, attention: 8 },
  words: { dim: 8 },
  train: { epochs: 1, batchSize: 16 },
  decode: { beam: 2, maxLength: 8, lengthPenalty: 0 },
});
const tiny = (hidden: number) => resolveConfig('quick', { ...tinyOverrides(hidden), encoder: { kind: 'small-cnn', inputSize: 64, normalisation: 'imagenet' } });

test('two runs train in two processes, come back in order, and are found without a process the next time', async () => {
  const lines: string[] = [];
  const first = await trainRuns([{ name: 'tiny-a', config: tiny(16) }], { processes: 1, log: (l) => lines.push(l) });
  const runs = await trainRuns([{ name: 'tiny-a', config: tiny(16) }, { name: 'tiny-b', config: tiny(24) }], { processes: 2, log: (l) => lines.push(l) });
  assert.equal(runs[0].id, first[0].id, 'the finished run is loaded, not retrained');
  assert.ok(runs[1].id.startsWith('tiny-b-'));
  assert.equal((runs[1].config.config as { decoder: { hidden: number } }).decoder.hidden, 24);
  assert.ok(runs.every((r) => r.summary.status === 'finished'));
  assert.ok(lines.some((l) => l.startsWith('[tiny-b] ')), 'child lines are prefixed with the run name');
  assert.ok(lines.some((l) => /^\[tiny-a\] loaded run /.test(l)));

  // Everything finished: found from the fingerprints in this process, no training process started.
  const again: string[] = [];
  const loaded = await trainRuns([{ name: 'tiny-a', config: tiny(16) }, { name: 'tiny-b', config: tiny(24) }], { processes: 2, log: (l) => again.push(l) });
  assert.deepEqual(loaded.map((r) => r.id), runs.map((r) => r.id));
  assert.ok(!again.some((l) => l.startsWith('training ')), again.join('\n'));
});

test('a failing training process rejects with its own error', async () => {
  // A config the parent can identify but the child cannot train: its feature cache folder is a file.
  const notAFolder = path.join(root, 'features-is-a-file');
  fs.writeFileSync(notAFolder, 'not a folder');
  const broken = resolveConfig('quick', { ...tinyOverrides(16), encoder: { cache: { dir: notAFolder } } });
  await assert.rejects(trainRuns([{ name: 'broken', config: broken }], { processes: 1, log: () => {} }), (error: Error) => {
    assert.match(error.message, /training broken failed \(exit code 1\): .*features-is-a-file/);
    return true;
  });
});

test('a request whose data cannot be read is an error naming the request, before any process starts', async () => {
  const missing = { ...tiny(16), data: { ...tiny(16).data, source: 'karpathy' as const, dir: path.join(root, 'missing.json') } };
  const lines: string[] = [];
  await assert.rejects(trainRuns([{ name: 'missing-data', config: missing }], { processes: 1, log: (l) => lines.push(l) }), /run request "missing-data": cannot read its data.*missing\.json/);
  assert.ok(!lines.some((l) => l.startsWith('training ')), 'no training process');
});

test('children sharing a feature cache: one extracts the features, the other starts once they are ready', async () => {
  const features = path.join(root, 'features-shared');
  const config = (hidden: number) => resolveConfig('quick', { ...tinyOverrides(hidden), encoder: { cache: { dir: features } } });
  const lines: string[] = [];
  const runs = await trainRuns([{ name: 'shared-a', config: config(16) }, { name: 'shared-b', config: config(24) }], { processes: 2, log: (l) => lines.push(l) });
  assert.equal(runs.length, 2);
  const reports = lines.map((l) => /^\[(shared-[ab])\] features: (\d+) cached, (\d+) computed/.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  assert.equal(reports.length, 2, lines.join('\n'));
  const computed = reports.map((m) => Number(m[3]));
  assert.deepEqual(computed.sort((x, y) => x - y), [0, 30], `one child computed the 30 images, the other read them: ${reports.map((m) => m[0]).join(' | ')}`);
});

test('the same content under two names trains once; both names come back with the one run', async () => {
  const lines: string[] = [];
  const runs = await trainRuns([{ name: 'twin-a', config: tiny(20) }, { name: 'twin-b', config: tiny(20) }], { processes: 2, log: (l) => lines.push(l) });
  assert.equal(runs[0].id, runs[1].id);
  assert.ok(lines.some((l) => /^training 1 run\(s\)/.test(l)), lines.join('\n'));
  assert.deepEqual(runs[0].config.aliases, ['twin-a', 'twin-b']);
  assert.equal(listRuns({ name: 'twin-b' }).length, 1);
});

test('an existing run that cannot be loaded is an error naming it, not retrained', async () => {
  const [run] = await trainRuns([{ name: 'tiny-a', config: tiny(16) }], { processes: 1, log: () => {} });
  const summary = path.join(run.dir, 'summary.json');
  const text = fs.readFileSync(summary, 'utf8');
  fs.writeFileSync(summary, text.slice(0, text.length / 2)); // torn by hand
  try {
    const lines: string[] = [];
    await assert.rejects(trainRuns([{ name: 'tiny-a', config: tiny(16) }], { processes: 1, log: (l) => lines.push(l) }), (error: Error) => {
      assert.match(error.message, /run request "tiny-a": its existing run cannot be loaded: .*summary\.json/);
      return true;
    });
    assert.ok(!lines.some((l) => l.startsWith('training ')), 'nothing retrained');
  } finally {
    fs.writeFileSync(summary, text);
  }
});
