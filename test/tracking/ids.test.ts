// Run ids: canonical JSON (sorted keys at every depth), a 12-hex sha256 prefix, and errors
// that name the offending key.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { test } from 'node:test';

import { canonicalJson, flattenConfig, runId, runIdentity, slugify } from '../../src/tracking';

const base = { name: 'baseline', config: { lr: 4e-4, model: { hidden: 512, attention: 256 } }, epochs: 5, seed: 1, fingerprints: { dataset: 'aaaa', vocabulary: 'bbbb' } };

test('canonical JSON sorts keys at every depth and drops undefined members', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson({ x: 1.0, y: -0 }), '{"x":1,"y":0}');
});

test('the run id is the slug of the name and 12 hex digits of the sha256 of the canonical identity', () => {
  const id = runId(base);
  assert.match(id, /^baseline-[0-9a-f]{12}$/);
  const expected = createHash('sha256').update(canonicalJson(runIdentity(base))).digest('hex').slice(0, 12);
  assert.equal(id, `baseline-${expected}`);
  // Key order does not matter; every part of the identity does.
  assert.equal(runId({ ...base, config: { model: { attention: 256, hidden: 512 }, lr: 4e-4 }, fingerprints: { vocabulary: 'bbbb', dataset: 'aaaa' } }), id);
  const variants = [
    { ...base, config: { ...base.config, lr: 1e-3 } },
    { ...base, epochs: 6 },
    { ...base, seed: 2 },
    { ...base, fingerprints: { ...base.fingerprints, dataset: 'cccc' } },
  ];
  for (const v of variants) assert.notEqual(runId(v).slice(-12), id.slice(-12));
  assert.equal(runId({ ...base, name: 'BERT + attention' }).slice(0, 15), 'bert-attention-');
});

test('non-JSON configs are errors naming the key', () => {
  assert.throws(() => runId({ ...base, config: { model: { lr: NaN } } }), /config key "model\.lr" is NaN/);
  assert.throws(() => runId({ ...base, config: { when: new Date() } }), /config key "when" is a Date/);
  assert.throws(() => runId({ ...base, config: { f: () => 1 } }), /config key "f" is a function/);
  assert.throws(() => runId({ ...base, epochs: 0 }), /epochs must be a positive integer, got 0/);
  assert.throws(() => runId({ ...base, fingerprints: { dataset: '' } }), /fingerprint "dataset" must be a non-empty string/);
});

test('slugs and flattened configs', () => {
  assert.equal(slugify('  Show, Attend & Tell!  '), 'show-attend-tell');
  assert.equal(slugify(''), 'run');
  assert.deepEqual(flattenConfig({ model: { hidden: 512, layers: [1, 2] }, lr: 0.1, tags: {}, name: null }), {
    'model.hidden': 512,
    'model.layers': '[1,2]',
    lr: 0.1,
    tags: '{}',
    name: null,
  });
});
