// The report's claims against tolerances fixed in advance (src/analysis/claims.ts): a gain that
// holds only teacher-forced, one that holds both ways, and one that holds neither.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import type { PairedDifference } from '../../src/analysis/bootstrap';
import { claimRows, reproductionClaims, type ModelRows } from '../../src/analysis/claims';
import type { ProtocolRow } from '../../src/analysis/protocols';

const row = (tfBleu4: number, loss: number, tfEpoch: number, freeBleu4: number): ProtocolRow => ({
  label: 'x',
  run: 'x-0123456789ab',
  epochs: 10,
  bestEpoch: 5,
  teacherForced: { loss, crossEntropy: loss, bleu4: tfBleu4, minLoss: loss, epoch: tfEpoch },
  freeRunning: { 3: { 'BLEU-4': freeBleu4 } },
});
const model = (mean: ProtocolRow, lossSd = 0.05): ModelRows => ({ row: mean, sd: row(0.01, lossSd, 1, 0.01), seeds: 3 });
const paired = (difference: number, low: number, high: number): PairedDifference => ({
  metric: 'BLEU-4', arm: 0, reference: 0, difference, low, high, level: 0.95, excludesZero: low > 0 || high < 0, resamples: 1000, differences: new Float64Array(0),
});

test('the leak: every claim holds teacher-forced, none free-running; the loss has no free-running form', () => {
  const claims = reproductionClaims({ baseline: model(row(0.33, 1.05, 9, 0.48)), bert: model(row(0.68, 0.42, 6, 0)), interval: paired(-0.48, -0.51, -0.44) });
  assert.deepEqual(claims.map((c) => c.outcome), ['reproduced only under teacher forcing', 'reproduced', 'reproduced only under teacher forcing']);
  assert.match(claims[0].freeRunning, /48\.0 -> 0\.0 \(-48\.0, 95 % CI -51\.0 to -44\.0\)/);
  assert.match(claims[0].report, /21\.1 -> 26\.8 \(\+5\.7, x100\)/);
  assert.match(claims[2].freeRunning, /never reached/);
  assert.ok(Object.keys(claimRows(claims, 5)[0]).includes('ours, free-running (test, beam 5)') && Object.keys(claimRows(claims)[0]).length === 6);
});

test('a real gain holds both ways; a loss inside the seed noise and a later best epoch do not', () => {
  const claims = reproductionClaims({ baseline: model(row(0.3, 1.0, 5, 0.45), 0.1), bert: model(row(0.32, 0.9, 7, 0.47), 0.1), interval: paired(0.02, 0.005, 0.035) });
  assert.deepEqual(claims.map((c) => c.outcome), ['reproduced', 'not reproduced', 'not reproduced']);
  assert.match(claims[1].tolerance, /\(0\.200\)/, 'twice the larger sd');
  assert.throws(() => reproductionClaims({ baseline: model(row(0.3, 1, 5, 0.4)), bert: model(row(0.3, 1, 5, 0.4)), interval: { ...paired(0, -1, 1), metric: 'CIDEr-D' } }), /must be BLEU-4's/);
  assert.throws(() => reproductionClaims({ baseline: model(row(0.3, 1, 5, 0.4)), bert: model(row(0.3, 1, 5, 0.45)), interval: paired(0.02, 0, 0.04) }), /the interval's difference 0.02 is not the rows' free-running gain/);
  assert.throws(() => reproductionClaims({ baseline: model(row(0.3, 1, 5, 0.4)), bert: model(row(0.3, 1, 5, 0.4)), interval: paired(0, -1, 1), beam: 5 }), /has no free-running test BLEU-4 with beam 5/);
});

test('fewer epochs free-running needs both an earlier kept checkpoint and the baseline\'s score', () => {
  const early = (freeBleu4: number, bestEpoch: number) => ({ ...row(0.3, 1, 3, freeBleu4), bestEpoch });
  const judge = (bert: ProtocolRow) => reproductionClaims({ baseline: model({ ...row(0.3, 1, 6, 0.45), bestEpoch: 8 }), bert: model(bert), interval: paired(bert.freeRunning[3]['BLEU-4'] - 0.45, -1, 1) })[2].outcome;
  assert.equal(judge(early(0.46, 4)), 'reproduced');
  assert.equal(judge(early(0.46, 9)), 'reproduced only under teacher forcing', 'kept later');
  assert.equal(judge(early(0.40, 4)), 'reproduced only under teacher forcing', 'never reaches the baseline');
});
