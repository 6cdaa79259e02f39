// Backend selection: the forcing variable, the fallback when a backend fails to load, and
// the real choice on this machine.
import { strict as assert } from 'node:assert';
import { afterEach, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';

import {
  BACKEND_ENV_VAR,
  describeBackendChoice,
  forcedBackendFromEnv,
  selectBackend,
  type BackendLoader,
} from '../../src/compute/backend';

const saved = process.env[BACKEND_ENV_VAR];
afterEach(() => {
  if (saved === undefined) delete process.env[BACKEND_ENV_VAR];
  else process.env[BACKEND_ENV_VAR] = saved;
});

function isInstalled(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

const failing = (message: string): BackendLoader => async () => {
  throw new Error(message + '\n    at a stack line that must not reach the record');
};

test('on this machine the fastest loadable backend is chosen and absent native packages are explained', async () => {
  delete process.env[BACKEND_ENV_VAR];
  const choice = await selectBackend({ log: null });
  for (const pkg of ['node-gpu', 'node'] as const) {
    const name = pkg === 'node' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu';
    if (!isInstalled(name)) {
      const rejection = choice.rejected.find((r) => r.kind === pkg);
      assert.ok(rejection, `${pkg} should be listed as passed over`);
      assert.match(rejection.reason, /is not installed/);
    }
  }
  if (!isInstalled('@tensorflow/tfjs-node') && !isInstalled('@tensorflow/tfjs-node-gpu')) {
    assert.equal(choice.kind, 'wasm');
    assert.equal(choice.details.simd, true);
    assert.match(String(choice.details.binaries), /tfjs-backend-wasm[\\/]dist[\\/]$/);
  }
  assert.equal(tf.getBackend(), choice.tfjsBackend);
  assert.equal(choice.tfjsVersion, tf.version_core);
  assert.equal(choice.forcedBy, undefined);
});

test('the environment variable forces a backend and is recorded', async () => {
  process.env[BACKEND_ENV_VAR] = 'cpu';
  const choice = await selectBackend({ log: null });
  assert.equal(choice.kind, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(choice.forcedBy, `${BACKEND_ENV_VAR}=cpu`);
  assert.deepEqual(choice.rejected, []);
  assert.match(describeBackendChoice(choice), /forced by CAPTIONING_BACKEND=cpu/);
});

test('an unknown forced backend is an error naming the variable, the value and the choices', () => {
  assert.throws(
    () => forcedBackendFromEnv({ [BACKEND_ENV_VAR]: 'cuda' }),
    /CAPTIONING_BACKEND="cuda" is not a backend; use one of node-gpu, node, wasm, cpu/,
  );
  assert.equal(forcedBackendFromEnv({}), undefined);
});

test('a backend that fails to load is passed over with its reason, and the next one is taken', async () => {
  const lines: string[] = [];
  const choice = await selectBackend({
    force: undefined,
    loaders: {
      'node-gpu': failing('libcudart.so.11.0: cannot open shared object file'),
      node: failing('The specified module could not be found: tfjs_binding.node'),
    },
    log: (line) => lines.push(line),
  });
  assert.equal(choice.kind, 'wasm');
  assert.deepEqual(choice.rejected, [
    { kind: 'node-gpu', reason: 'libcudart.so.11.0: cannot open shared object file' },
    { kind: 'node', reason: 'The specified module could not be found: tfjs_binding.node' },
  ]);
  assert.equal(lines.length, 1, 'the decision is logged once');
  assert.match(lines[0], /backend wasm .*not node-gpu: libcudart.*not node: The specified module/);
});

test('a forced backend that fails to load is an error, not a silent fallback', async () => {
  await assert.rejects(
    selectBackend({ force: 'node', loaders: { node: failing('binding missing') }, log: null }),
    /CAPTIONING_BACKEND=node was asked for, but it failed to load: binding missing/,
  );
});

test('forcing the native backend: it loads where installed, else the real reason is the error', async () => {
  process.env[BACKEND_ENV_VAR] = 'node';
  if (isInstalled('@tensorflow/tfjs-node')) {
    assert.equal((await selectBackend({ log: null })).kind, 'node');
    return;
  }
  await assert.rejects(
    selectBackend({ log: null }),
    /CAPTIONING_BACKEND=node was asked for, but it failed to load: @tensorflow\/tfjs-node is not installed/,
  );
});

test('when nothing loads, the error lists every reason', async () => {
  const loaders = Object.fromEntries(
    (['node-gpu', 'node', 'wasm', 'cpu'] as const).map((k) => [k, failing(`${k} broken`)]),
  );
  await assert.rejects(
    selectBackend({ loaders, log: null }),
    /no tfjs backend could be loaded: node-gpu: node-gpu broken; node: node broken; wasm: wasm broken; cpu: cpu broken/,
  );
});
