// Sweep files (src/sweeps/sweep-file.ts, expand.ts): YAML and JSON read alike, every error names
// the file and the key, and the expansion gives the grid x arms x seeds with their configs and names.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';

import { checkSweep, expandSweep, readSweepFile } from '../../src/sweeps';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-file-'));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const YAML = `
name: hidden
metric: val BLEU-4
profile: quick
set:
  train.epochs: 2
  decoder.attention: 16
seeds: [1, 2]
axes:
  decoder.hidden: [32, 64]
  decoder.dropout: [0, 0.5]
`;

describe('sweep files', () => {
  test('YAML and JSON give the same sweep', () => {
    const fromYaml = readSweepFile(write('a.yaml', YAML));
    const json = { name: 'hidden', metric: 'val BLEU-4', profile: 'quick', set: { 'train.epochs': 2, 'decoder.attention': 16 }, seeds: [1, 2], axes: { 'decoder.hidden': [32, 64], 'decoder.dropout': [0, 0.5] } };
    const fromJson = readSweepFile(write('a.json', JSON.stringify(json)));
    assert.deepEqual({ ...fromYaml, file: '' }, { ...fromJson, file: '' });
    assert.deepEqual(fromYaml.axes, [['decoder.hidden', [32, 64]], ['decoder.dropout', [0, 0.5]]]);
  });

  test('errors name the file and the key', () => {
    const cases: [string, unknown, RegExp][] = [
      ['no name', { metric: 'm' }, /x\.json: name: should be a non-empty string/],
      ['unknown top key', { name: 'a', metric: 'm', epochs: 3 }, /x\.json: epochs: unknown key; known: name,/],
      ['unknown config key in set', { name: 'a', metric: 'm', set: { 'decoder.hiden': 3 } }, /x\.json: set\.decoder\.hiden: .*hiden/],
      ['unknown config key in axes', { name: 'a', metric: 'm', axes: { 'train.epoch': [1] } }, /x\.json: axes\.train\.epoch: /],
      ['empty axis', { name: 'a', metric: 'm', axes: { 'decoder.hidden': [] } }, /axes\.decoder\.hidden: should be a non-empty list/],
      ['bad profile', { name: 'a', metric: 'm', profile: 'huge' }, /profile: should be one of quick, paper/],
      ['bad arm variant', { name: 'a', metric: 'm', arms: [{ name: 'x', variant: 'gpt' }] }, /arms\[0\]\.variant: should be one of baseline, bert/],
      ['two arms one name', { name: 'a', metric: 'm', arms: [{ name: 'x' }, { name: 'x' }] }, /arms\[1\]\.name: "x" names another arm too/],
      ['bad sbatch option', { name: 'a', metric: 'm', slurm: { extra: ['account=lab'] } }, /slurm\.extra: should be a list of sbatch options/],
      ['bad sample', { name: 'a', metric: 'm', sample: { count: 0, seed: 1 } }, /sample\.count: should be a whole number >= 1/],
      ['bad placeholder', { name: 'a', metric: 'm', runName: '{sweep}-{lr}' }, /runName: unknown placeholder \{lr\}/],
    ];
    for (const [what, value, message] of cases) assert.throws(() => checkSweep(value, 'x.json'), message, what);
    assert.throws(() => readSweepFile(write('b.yaml', 'name: [unclosed')), /b\.yaml: not a valid YAML file/);
    assert.throws(() => readSweepFile(write('c.txt', 'name: a')), /c\.txt: not a sweep file: the extension should be \.json, \.yaml or \.yml/);
    assert.throws(() => readSweepFile(path.join(dir, 'missing.yaml')), /missing\.yaml: cannot read it/);
  });

  test('the grid times the seeds, each config resolved, each name its own', () => {
    const requests = expandSweep(readSweepFile(write('grid.yaml', YAML)));
    assert.equal(requests.length, 2 * 2 * 2);
    assert.deepEqual(requests.map((r) => r.name).slice(0, 3), ['hidden-base-hidden-32-dropout-0-s1', 'hidden-base-hidden-32-dropout-0-s2', 'hidden-base-hidden-32-dropout-0-5-s1']);
    const last = requests[7];
    assert.deepEqual([last.config.decoder.hidden, last.config.decoder.dropout, last.config.seed, last.config.train.epochs, last.config.decoder.attention], [64, 0.5, 2, 2, 16]);
    assert.deepEqual(requests.map((r) => r.index), [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test('arms with their own variant, settings and seeds; when; a seeded sample', () => {
    const sweep = checkSweep(
      {
        name: 'abl',
        metric: 'test BLEU-4',
        seeds: [3, 4],
        runName: 'ablation-{arm}-s{seed}',
        arms: [
          { name: 'learned (reference)', seeds: 'all' },
          { name: 'BERT static', variant: 'bert', set: { 'words.bert.mode': 'static' }, seeds: 'first' },
          { name: 'on COCO only', when: { 'data.source': 'karpathy' } },
        ],
      },
      'abl.json',
    );
    const requests = expandSweep(sweep);
    assert.deepEqual(requests.map((r) => r.name), ['ablation-learned-reference-s3', 'ablation-learned-reference-s4', 'ablation-bert-static-s3']);
    assert.equal(requests[2].config.words.kind, 'bert');
    assert.equal(requests[2].config.words.bert.mode, 'static');
    const sampled = checkSweep({ name: 's', metric: 'm', axes: { 'decoder.hidden': [8, 16, 32, 64] }, sample: { count: 2, seed: 9 } }, 's.json');
    const once = expandSweep(sampled).map((r) => r.config.decoder.hidden);
    assert.equal(once.length, 2);
    assert.deepEqual(expandSweep(sampled).map((r) => r.config.decoder.hidden), once, 'the same sample every time');
    assert.throws(() => expandSweep({ ...sampled, sample: { count: 5, seed: 9 } }), /sample\.count is 5, but the grid has 4 points/);
  });

  test('a bad value is an error naming the file, the arm and the point; two runs with one name are refused', () => {
    const bad = checkSweep({ name: 'b', metric: 'm', axes: { 'decoder.hidden': [8, -1] } }, 'b.json');
    assert.throws(() => expandSweep(bad), /b\.json: arm "base", \{"decoder\.hidden":-1\}, seed 1: .*decoder\.hidden/);
    const clash = checkSweep({ name: 'c', metric: 'm', seeds: [1, 2], runName: '{sweep}-{arm}' }, 'c.json');
    assert.throws(() => expandSweep(clash), /runName "\{sweep\}-\{arm\}" gives "c-base" to two runs/);
  });
});
