// A training child uses the backend its parent chose (a notebook's `device` parameter), passed
// explicitly: here the parent picks the cpu backend with no CAPTIONING_BACKEND set, where a
// child left to itself would take the faster wasm.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { BACKEND_ENV_VAR, initBackend } from '../../src/compute/backend';
import { resolveConfig } from '../../src/config';
import { RESULTS_ENV_VAR } from '../../src/tracking';
import { trainRuns } from '../../src/train/parallel';
import { tinyRunOverrides } from './tiny-run';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'parallel-backend-'));
const saved = { results: process.env[RESULTS_ENV_VAR], backend: process.env[BACKEND_ENV_VAR] };

before(async () => {
  process.env[RESULTS_ENV_VAR] = root;
  delete process.env[BACKEND_ENV_VAR];
  await initBackend('cpu'); // as a notebook does with device: 'cpu'
});

after(() => {
  for (const [key, value] of [[RESULTS_ENV_VAR, saved.results], [BACKEND_ENV_VAR, saved.backend]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  fs.rmSync(root, { recursive: true, force: true });
});

test("the child trains on the parent's backend", async () => {
  const config = resolveConfig('quick', tinyRunOverrides(path.join(root, 'scenes')));
  const [run] = await trainRuns([{ name: 'on-cpu', config }], { processes: 1, log: () => {} });
  assert.equal(run.summary.backend, 'cpu');
  assert.equal(run.environment?.backend.kind, 'cpu');
});
