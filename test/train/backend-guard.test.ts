// A long epoch on a slow, unforced backend is refused with its measured estimate; the GPU,
// a forced backend and short epochs pass (and short epochs are not even timed).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import type { BackendChoice } from '../../src/compute/backend';
import { guardSlowBackend, LONGEST_UNFORCED_EPOCH_SECONDS, TIMED_FROM_STEPS } from '../../src/train/backend-guard';

const wasm: BackendChoice = {
  kind: 'wasm',
  tfjsBackend: 'wasm',
  tfjsVersion: '4.22.0',
  rejected: [{ kind: 'node-gpu', reason: '@tensorflow/tfjs-node-gpu is not installed' }],
  details: {},
};

function timer(seconds: number) {
  const calls = { count: 0 };
  return { calls, time: async () => (calls.count++, seconds) };
}

test('a paper-sized epoch on unforced wasm is refused, naming the estimate, the GPU reason and how to force it', async () => {
  const t = timer(4.5);
  await assert.rejects(guardSlowBackend(wasm, 17_710, t.time), (error: Error) => {
    assert.match(error.message, /refusing to train on wasm: an epoch of 17710 steps would take about 22 h 08 min/);
    assert.match(error.message, /measured just now: 4\.50 s/);
    assert.match(error.message, /GPU backend was not used: @tensorflow\/tfjs-node-gpu is not installed/);
    assert.match(error.message, /CAPTIONING_BACKEND=wasm/);
    return true;
  });
  assert.equal(t.calls.count, 1);
});

test('the GPU, a forced backend, a short epoch and a fast enough step all pass', async () => {
  const slow = timer(4.5);
  await guardSlowBackend({ ...wasm, kind: 'node-gpu' }, 17_710, slow.time);
  await guardSlowBackend({ ...wasm, forcedBy: 'CAPTIONING_BACKEND=wasm' }, 17_710, slow.time);
  await guardSlowBackend(wasm, TIMED_FROM_STEPS - 1, slow.time);
  assert.equal(slow.calls.count, 0, 'none of these is timed');
  const fast = timer((LONGEST_UNFORCED_EPOCH_SECONDS - 1) / 20_000);
  await guardSlowBackend(wasm, 20_000, fast.time);
  assert.equal(fast.calls.count, 1);
});
