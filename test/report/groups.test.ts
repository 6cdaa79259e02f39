// The report's run groups (src/report/groups.ts): the seeds of one config are one group named by
// the run name without its seed; two configs under one name are never pooled.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { groupBySeedStem } from '../../src/report/groups';

test('seeds of a config are one group; a second config under the same name is its own', () => {
  const run = (name: string, seed: number, patience: number) => ({ name, config: { seed, train: { earlyStopping: { patience } } } });
  const runs = [run('baseline-s1', 1, 8), run('baseline-s2', 2, 8), run('bert-s1', 1, 8), run('baseline-s1', 1, 4)];
  const groups = groupBySeedStem(runs, (r) => r);
  assert.deepEqual([...groups.keys()], ['baseline (config 1)', 'baseline (config 2)', 'bert']);
  assert.deepEqual(groups.get('baseline (config 1)')!.map((r) => r.name), ['baseline-s1', 'baseline-s2']);
  assert.deepEqual(groups.get('baseline (config 2)')!.map((r) => r.config.train.earlyStopping.patience), [4]);
  assert.deepEqual([...groupBySeedStem(runs.slice(0, 3), (r) => r).keys()], ['baseline', 'bert']);
});
