// The closing verdict is computed from the runs' numbers: table-driven over gains that do and
// do not clear the noise, with the statement quoting the numbers it rests on.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import type { ProtocolRow } from '../../src/analysis/protocols';
import { bertVerdict } from '../../src/analysis/verdict';
import type { PairedDifference } from '../../src/analysis/bootstrap';

const row = (label: string, tfBleu4: number, loss: number, freeBleu4: number): ProtocolRow => ({
  label,
  run: `${label}-0123456789ab`,
  epochs: 6,
  bestEpoch: 5,
  teacherForced: { loss, crossEntropy: loss, bleu4: tfBleu4, minLoss: loss, epoch: 4 },
  freeRunning: { 3: { 'BLEU-4': freeBleu4 } },
});

// A bootstrap result as runsBootstrap returns it: the difference on the test set and its interval.
const paired = (difference: number, low: number, high: number, metric: 'BLEU-4' | 'CIDEr-D' = 'BLEU-4'): PairedDifference => ({
  metric, arm: 0, reference: 0, difference, low, high, level: 0.95, excludesZero: low > 0 || high < 0, resamples: 1000, differences: new Float64Array(0),
});
const seeds = { baseline: 3, bert: 3 };

const cases = [
  { name: 'a teacher-forced gain that turns into a loss free-running', bert: row('bert', 0.62, 0.4, 0.3), interval: [-0.18, -0.21, -0.15], survives: false, says: /interval does not lie above 0: the report's BERT gain does not survive free-running evaluation; it is a property of teacher forcing/ },
  { name: 'a free-running gain whose interval holds 0', bert: row('bert', 0.5, 0.9, 0.495), interval: [0.015, -0.004, 0.031], survives: false, says: /does not survive free-running evaluation\./ },
  { name: 'a free-running gain whose interval lies above 0', bert: row('bert', 0.55, 0.8, 0.53), interval: [0.05, 0.021, 0.08], survives: true, says: /The interval lies above 0: the BERT gain survives free-running evaluation\./ },
];

for (const c of cases) {
  test(`verdict: ${c.name}`, () => {
    const [difference, low, high] = c.interval;
    const verdict = bertVerdict({ baseline: row('baseline', 0.5, 1.0, 0.48), bert: c.bert }, { beam: 3, interval: paired(difference, low, high), cider: paired(0.1, -0.2, 0.4, 'CIDEr-D'), seeds });
    assert.equal(verdict.survives, c.survives);
    assert.match(verdict.statement, c.says);
    assert.ok(Math.abs(verdict.freeRunning.gain - (c.bert.freeRunning[3]['BLEU-4'] - 0.48)) < 1e-12);
    assert.ok(verdict.statement.includes(c.bert.freeRunning[3]['BLEU-4'].toFixed(4)), 'the statement quotes the BERT free-running score');
    assert.ok(verdict.statement.includes(`95 % interval ${low >= 0 ? '+' : ''}${low.toFixed(4)} to ${high >= 0 ? '+' : ''}${high.toFixed(4)}`), 'the statement quotes the interval');
    assert.match(verdict.statement, /means over 3 and 3 seeds/);
    assert.match(verdict.statement, /CIDEr-D \+0\.100, 95 % interval -0\.200 to \+0\.400/);
    assert.ok(Math.abs(verdict.report.gain - 0.057) < 1e-9, "the report's gain, 26.8 - 21.1, on the 0-1 scale");
  });
}

test('a missing free-running score, or an interval of other runs, is an error', () => {
  const bert = { ...row('bert', 0.6, 0.5, 0.5), freeRunning: {} };
  assert.throws(() => bertVerdict({ baseline: row('baseline', 0.5, 1, 0.48), bert }, { interval: paired(0.02, 0, 0.04), seeds }), /run bert-0123456789ab \(bert\) has no free-running test BLEU-4 with beam 3/);
  assert.throws(
    () => bertVerdict({ baseline: row('baseline', 0.5, 1, 0.48), bert: row('bert', 0.6, 0.5, 0.5) }, { interval: paired(0.05, 0.01, 0.09), seeds }),
    /the interval's difference 0.05 is not the rows' free-running gain/,
  );
  assert.throws(() => bertVerdict({ baseline: row('baseline', 0.5, 1, 0.48), bert: row('bert', 0.6, 0.5, 0.5) }, { interval: paired(0.02, 0, 0.04, 'CIDEr-D'), seeds }), /must be BLEU-4's/);
});
