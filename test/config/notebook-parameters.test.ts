// The notebooks' parameters cell: defaults, environment overrides, checks that name the bad
// variable, and the config a notebook builds from them.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { notebookConfig, notebookParameters } from '../../src/config';

test('parameters come from the cell defaults, then the environment; bad values name the variable', () => {
  assert.deepEqual(notebookParameters({}, {}), { profile: 'quick', data: null, images: null, bert: null, device: null, set: [] });
  const env = { CAPTIONING_PROFILE: 'paper', CAPTIONING_DATA: '/coco/dataset_coco.json', CAPTIONING_IMAGES: '/coco', CAPTIONING_BERT: 'Xenova/bert-large-uncased', CAPTIONING_BACKEND: 'wasm', CAPTIONING_SET: 'train.epochs=3  decoder.hidden=128' };
  const p = notebookParameters({ set: ['train.batchSize=16'] }, env);
  assert.deepEqual(p, { profile: 'paper', data: '/coco/dataset_coco.json', images: '/coco', bert: 'Xenova/bert-large-uncased', device: 'wasm', set: ['train.batchSize=16', 'train.epochs=3', 'decoder.hidden=128'] });
  assert.throws(() => notebookParameters({}, { CAPTIONING_PROFILE: 'huge' }), /CAPTIONING_PROFILE="huge" is not a profile; use one of quick, paper/);
  assert.throws(() => notebookParameters({}, { CAPTIONING_BACKEND: 'tpu' }), /CAPTIONING_BACKEND="tpu" is not a backend/);
  assert.throws(() => notebookParameters({}, { CAPTIONING_SET: 'decoder.hiden=3' }), /config key "decoder.hiden" is unknown/);
});

test('a notebook config applies profile, variant, data, BERT, the notebook overrides and then the settings', () => {
  const p = notebookParameters({}, { CAPTIONING_DATA: 'data/other', CAPTIONING_BERT: './my-bert', CAPTIONING_SET: 'train.epochs=2' });
  const config = notebookConfig(p, 'bert', { decoder: { context: 'mean' }, train: { epochs: 9 } });
  assert.equal(config.data.dir, 'data/other');
  assert.equal(config.words.kind, 'bert');
  assert.equal(config.words.bert.model, './my-bert');
  assert.equal(config.decoder.context, 'mean');
  assert.equal(config.train.epochs, 2, 'the user settings come last');
  const baseline = notebookConfig(notebookParameters({}, {}));
  assert.equal(baseline.words.kind, 'learned');
  assert.equal(baseline.data.dir, 'results/data/scenes-quick');
});
