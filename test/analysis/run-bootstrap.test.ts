// The paired bootstrap of finished runs (src/analysis/run-bootstrap.ts): three tiny captioners
// trained through the run store (an arm with one seed, a reference with two); on the test captions
// they decoded, the bootstrap's point estimates are exactly their recorded coco-caption scores.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';

import { compareArms, comparisonRows } from '../../src/analysis/comparisons';
import { runsBootstrap } from '../../src/analysis/run-bootstrap';
import { selectBackend } from '../../src/compute/backend';
import { configFromIdentity } from '../../src/config';
import { loadRun, type Run } from '../../src/tracking';
import { ensureEvaluation } from '../../src/train/job';
import { trainTinyCaptioner } from './tiny-captioner';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'run-bootstrap-'));
const runs: Record<string, Run> = {};

before(async () => {
  await selectBackend({ force: 'wasm', log: null });
  const train = async (name: string, hidden: number, seed: number) => {
    runs[name] = await trainTinyCaptioner(root, name, { hidden, seed });
  };
  await train('arm-s1', 32, 1);
  await train('ref-s1', 16, 1);
  await train('ref-s2', 16, 2);
});

test("on the runs' own test captions, the point estimates are their recorded scores, exactly", async () => {
  const [bleu, cider] = await runsBootstrap([runs['arm-s1']], [runs['ref-s1'], runs['ref-s2']], { resamples: 200, seed: 3 });
  const recorded = (run: Run, name: string) => run.metric(name, { split: 'test', beam: 1 })!.value;
  assert.equal(bleu.arm, recorded(runs['arm-s1'], 'BLEU-4'));
  assert.equal(bleu.reference, (recorded(runs['ref-s1'], 'BLEU-4') + recorded(runs['ref-s2'], 'BLEU-4')) / 2);
  assert.equal(cider.arm, recorded(runs['arm-s1'], 'CIDEr-D'));
  assert.equal(cider.reference, (recorded(runs['ref-s1'], 'CIDEr-D') + recorded(runs['ref-s2'], 'CIDEr-D')) / 2);
  for (const d of [bleu, cider]) {
    assert.equal(d.resamples, 200);
    assert.ok(d.low <= d.high, `${d.metric}: an interval`);
  }
  await assert.rejects(runsBootstrap([runs['arm-s1']], [runs['ref-s1']], { split: 'val' }), new RegExp(`run ${runs['ref-s1'].id} has no val captions for beam 1`));
  await assert.rejects(runsBootstrap([], [runs['ref-s1']]), /at least one run on each side/);
});

test('compareArms: each arm with its spread over seeds and its paired interval against the reference; the rows say which intervals leave 0 out', async () => {
  const reference = { study: 'size', arm: 'hidden 16', runs: [runs['ref-s1'], runs['ref-s2']] };
  const arm = { study: 'size', arm: 'hidden 32', runs: [runs['arm-s1']] };
  const [own, against] = await compareArms([{ arm: reference, reference: null }, { arm, reference }], { beam: 1, resamples: 200, seed: 3 });
  const recorded = (run: Run) => run.metric('BLEU-4', { split: 'test', beam: 1 })!.value;
  assert.equal(own.differences, null);
  assert.deepEqual(own.scores['BLEU-4'].values, [recorded(runs['ref-s1']), recorded(runs['ref-s2'])]);
  assert.equal(own.scores['BLEU-4'].n, 2);
  const [bleu, cider] = await runsBootstrap(arm.runs, reference.runs, { resamples: 200, seed: 3 });
  assert.deepEqual([against.differences!['BLEU-4'].low, against.differences!['BLEU-4'].high], [bleu.low, bleu.high], 'the same seeded resamples');
  assert.equal(against.differences!['CIDEr-D'].difference, cider.difference);
  const rows = comparisonRows([own, against]);
  assert.deepEqual(Object.keys(rows[1]), ['study', 'arm', 'n', 'BLEU-4', 'Δ BLEU-4 [95% CI]', 'CIDEr-D', 'Δ CIDEr-D [95% CI]', 'interval excludes 0']);
  assert.equal(rows[0]['Δ BLEU-4 [95% CI]'], 'reference');
  const sign = (x: number) => `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(4)}`;
  assert.equal(rows[1]['Δ BLEU-4 [95% CI]'], `${sign(bleu.difference)} [${sign(bleu.low)}, ${sign(bleu.high)}]`);
  const excluded = [bleu, cider].filter((d) => d.excludesZero).map((d) => d.metric);
  assert.equal(rows[1]['interval excludes 0'], excluded.join(', ') || 'neither');
  assert.equal(rows[1].n, '1');
});

test('another beam is decoded into its own captions file, and compared on them; captions that no longer give their recorded score are refused', async () => {
  const ids = ['arm-s1', 'ref-s1'].map((name) => runs[name].id);
  const own = fs.readFileSync(path.join(runs['ref-s1'].dir, 'captions-test.json'), 'utf8');
  for (const run of [runs['arm-s1'], runs['ref-s1']]) await ensureEvaluation(run, configFromIdentity(run.config.config), { split: 'test', beam: 2 });
  const [arm, ref] = ids.map((id) => loadRun(id, { root }));
  assert.equal(fs.readFileSync(path.join(ref.dir, 'captions-test.json'), 'utf8'), own, "the run's own beam-1 captions are left as they were");
  assert.ok(fs.existsSync(path.join(ref.dir, 'captions-test-beam2.json')));
  const [bleu] = await runsBootstrap([arm], [ref], { beam: 2, resamples: 50 });
  assert.equal(bleu.arm, arm.metric('BLEU-4', { split: 'test', beam: 2 })!.value);
  assert.equal(bleu.reference, ref.metric('BLEU-4', { split: 'test', beam: 2 })!.value);
  // A beam-size comparison: the same run at beam 2 against its own beam 1.
  const [beams] = await runsBootstrap([ref], [ref], { beam: 2, referenceBeam: 1, resamples: 50 });
  assert.equal(beams.arm, ref.metric('BLEU-4', { split: 'test', beam: 2 })!.value);
  assert.equal(beams.reference, ref.metric('BLEU-4', { split: 'test', beam: 1 })!.value);

  // Beam 1's captions replaced by beam 2's: they no longer give beam 1's recorded BLEU-4.
  const file = path.join(ref.dir, 'captions-test.json');
  const beam2 = fs.readFileSync(path.join(ref.dir, 'captions-test-beam2.json'), 'utf8');
  const replaced = JSON.parse(beam2).map((c: { image_id: number; caption: string }, i: number) => (i === 0 ? { ...c, caption: `${c.caption} red` } : c));
  fs.writeFileSync(file, JSON.stringify(replaced));
  try {
    await assert.rejects(runsBootstrap([arm], [ref], { resamples: 10 }), new RegExp(`run ${ref.id}'s test captions for beam 1 give BLEU-4 .* but its summary.json records`));
  } finally {
    fs.writeFileSync(file, own);
  }
});
