// Notebook 04's ablation studies come from sweeps/ablations.yaml (issue #17): the requests the
// notebooks train, their names (the runs notebook 04 committed), seeds, order and schedule.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { ablationPlans, REFERENCE_ARM } from '../../src/analysis/ablation-plans';
import { notebookConfig, type NotebookParameters } from '../../src/config';
import { projectPath } from '../../src/common/project';
import { checkSweep, readSweepFile } from '../../src/sweeps';

const params: NotebookParameters = { profile: 'quick', data: null, images: null, bert: null, device: null, set: [] };

test("the ablations' sweep file gives notebook 04's runs: every arm with every seed, the notebook's schedule", () => {
  const { plans, requests } = ablationPlans(params, { epochs: 8, seeds: [1, 2, 3] });
  assert.equal(plans[0].arm, REFERENCE_ARM);
  assert.deepEqual(plans.map((p) => [p.study, p.arm, p.seeds.join(',')]), [
    ['word inputs', 'learned (reference)', '1,2,3'],
    ['word inputs', 'BERT static', '1,2,3'],
    ['word inputs', 'BERT causal', '1,2,3'],
    ['word inputs', 'BERT bidirectional (report)', '1,2,3'],
    ['context', 'mean feature, no attention', '1,2,3'],
    ['doubly stochastic', 'alpha_c 1', '1,2,3'],
    ['occlusion', 'occluded scenes (p 0.5)', '1,2,3'],
  ]);
  assert.deepEqual(requests.map((r) => r.seed), [...Array(7).fill(1), ...Array(7).fill(2), ...Array(7).fill(3)], 'seed by seed');
  assert.ok(requests.every((r) => r.config.train.epochs === 8));
  // Each request's config is the notebook config of its arm's variant and change, as notebook 04 builds it.
  const static_ = requests.find((r) => r.name === 'ablation-bert-static-s1')!;
  assert.deepEqual(static_.config, notebookConfig(params, 'bert', { train: { epochs: 8 } }, { words: { bert: { mode: 'static' } } }, { seed: 1 }));
  assert.deepEqual(static_.plan.override, { words: { bert: { mode: 'static' } } });
  const profileSchedule = ablationPlans(params, { epochs: null, seeds: [4] });
  assert.ok(profileSchedule.requests.every((r) => r.config.train.epochs === notebookConfig(params).train.epochs && r.seed === 4));
});

test("the encoder study's sweep file: the same reference runs as notebook 04's, and the CNN from scratch trained first", () => {
  const encoder = ablationPlans(params, { epochs: 8, seeds: [1, 2, 3], sweep: readSweepFile(projectPath('sweeps/encoder.yaml')) });
  const notebook = ablationPlans(params, { epochs: 8, seeds: [1, 2, 3] });
  assert.deepEqual(encoder.plans.map((p) => [p.study, p.arm]), [['encoder', REFERENCE_ARM], ['encoder', 'small CNN from scratch']]);
  assert.equal(encoder.requests[0].name, 'ablation-small-cnn-from-scratch-s1', 'the slowest run first');
  const references = (r: typeof notebook.requests) => r.filter((q) => q.plan.arm === REFERENCE_ARM).map((q) => [q.name, q.config]);
  assert.deepEqual(references(encoder.requests), references(notebook.requests), 'found in the run store, not trained again');
});

test('another sweep of studies: scenes-only arms (when) left out on other data; the reference must come first', () => {
  const sweep = checkSweep(
    { name: 'mine', metric: 'm', runName: 'mine-{arm}-s{seed}', arms: [{ name: REFERENCE_ARM, study: 'word inputs' }, { name: 'coco only', study: 'x', set: { 'decoder.hidden': 64 }, when: { 'data.source': 'karpathy' } }] },
    'mine.json',
  );
  assert.deepEqual(ablationPlans(params, { epochs: 1, seeds: [1], sweep }).requests.map((r) => r.name), ['mine-learned-reference-s1']);
  const wrongOrder = checkSweep({ name: 'w', metric: 'm', arms: [{ name: 'other' }, { name: REFERENCE_ARM }] }, 'w.json');
  assert.throws(() => ablationPlans(params, { epochs: 1, seeds: [1], sweep: wrongOrder }), /w\.json: the first arm should be the reference/);
});
