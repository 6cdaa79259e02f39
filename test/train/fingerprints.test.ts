// The fingerprints that name a run, computed without extracting features, equal the ones
// prepareData records while it extracts them (a frozen pretrained encoder, learned words).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { selectBackend } from '../../src/compute/backend';
import { resolveConfig } from '../../src/config';
import { prepareData, runFingerprints } from '../../src/train/setup';

test('runFingerprints agrees with prepareData for a frozen pretrained encoder', async () => {
  await selectBackend({ force: 'wasm', log: null });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fingerprints-'));
  try {
    const config = resolveConfig('quick', {
      data: { dir: path.join(root, 'scenes'), scenes: { images: 20, size: 64, seed: 5, occlusion: 0, captionsPerImage: 5 } },
      encoder: { cache: { dir: path.join(root, 'features'), dtype: 'float16', batchSize: 16 } },
    });
    const before = await runFingerprints(config); // scenes generated, no feature extracted yet
    assert.ok(before?.features, 'the frozen encoder is part of the fingerprints');
    assert.ok(!fs.existsSync(path.join(root, 'features')), 'no feature was extracted');
    const data = await prepareData(config, { log: null });
    assert.deepEqual(before, data.fingerprints);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
