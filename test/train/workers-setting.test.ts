// How many data-parallel workers a run gets (src/train/data-parallel.ts `resolveWorkers`,
// src/train/parallel.ts `coresPerRun`): a number as configured; 'auto' the cores trainRuns
// gave the process, else every core, only for steps large enough to gain, and 1 off the
// one-thread CPU backends; the cores divided among the runs training side by side.
import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import { test } from 'node:test';

import { AUTO_WORKERS_MIN_GFLOP, resolveWorkers, stepGflop, WORKERS_ENV } from '../../src/train/data-parallel';
import { coresPerRun } from '../../src/train/parallel';

const LARGE = AUTO_WORKERS_MIN_GFLOP * 2;

test('a configured number is taken as it is', () => {
  assert.equal(resolveWorkers(3, 'wasm', 0.1, {}), 3);
  assert.equal(resolveWorkers(1, 'wasm', LARGE, { [WORKERS_ENV]: '4' }), 1);
});

test("'auto': the cores trainRuns gave, else every core, on wasm and cpu, for a large step", () => {
  assert.equal(resolveWorkers('auto', 'wasm', LARGE, { [WORKERS_ENV]: '3' }), 3);
  assert.equal(resolveWorkers('auto', 'cpu', LARGE, {}), os.availableParallelism());
});

test("'auto': 1 for a step below the threshold, and on tfjs-node or a GPU", () => {
  assert.equal(resolveWorkers('auto', 'wasm', AUTO_WORKERS_MIN_GFLOP / 2, { [WORKERS_ENV]: '4' }), 1);
  assert.equal(resolveWorkers('auto', 'tensorflow', LARGE, { [WORKERS_ENV]: '4' }), 1);
  assert.equal(resolveWorkers('auto', 'webgl', LARGE, {}), 1);
});

test('a bad CAPTIONING_WORKERS is an error naming it', () => {
  assert.throws(() => resolveWorkers('auto', 'wasm', LARGE, { [WORKERS_ENV]: 'two' }), /CAPTIONING_WORKERS must be a whole number >= 1, got "two"/);
  assert.throws(() => resolveWorkers('auto', 'wasm', LARGE, { [WORKERS_ENV]: '0' }), /CAPTIONING_WORKERS/);
});

test("a step's arithmetic: 6 FLOP per weight and token", () => {
  assert.equal(stepGflop(1e6, 500), 3);
});

test('the cores are divided among the runs training side by side', () => {
  assert.equal(coresPerRun(2, 2, 0, 0), 2, 'one run alone on 2 cores: both');
  assert.equal(coresPerRun(2, 2, 0, 1), 1, 'the first of two runs: 1');
  assert.equal(coresPerRun(2, 2, 1, 0), 1, 'the second of two runs: 1');
  assert.equal(coresPerRun(8, 2, 1, 5), 4, '8 cores, 2 processes at a time: 4 each');
  assert.equal(coresPerRun(2, 4, 3, 3), 1, 'never below 1');
});
