// The closing verdict is computed from the runs' numbers: table-driven over gains that do and
// do not clear the noise, with the statement quoting the numbers it rests on.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import type { ProtocolRow } from '../../src/analysis/protocols';
import { bertVerdict } from '../../src/analysis/verdict';

const row = (label: string, tfBleu4: number, loss: number, freeBleu4: number): ProtocolRow => ({
  label,
  run: `${label}-0123456789ab`,
  epochs: 6,
  bestEpoch: 5,
  teacherForced: { loss, crossEntropy: loss, bleu4: tfBleu4, minLoss: loss, epoch: 4 },
  freeRunning: { 3: { 'BLEU-4': freeBleu4 } },
});

const cases = [
  { name: 'a teacher-forced gain that vanishes free-running', bert: row('bert', 0.62, 0.4, 0.47), noise: 0.01, survives: false, says: /does not survive free-running evaluation: it is a property of teacher forcing/ },
  { name: 'a free-running gain inside the noise', bert: row('bert', 0.5, 0.9, 0.495), noise: 0.01, survives: false, says: /does not survive free-running evaluation\./ },
  { name: 'a free-running gain beyond twice the noise', bert: row('bert', 0.55, 0.8, 0.53), noise: 0.01, survives: true, says: /The BERT gain survives free-running evaluation\./ },
  { name: 'no seed spread: the minimum gain decides', bert: row('bert', 0.55, 0.8, 0.495), noise: null, survives: true, says: /the 0\.01 we require without a seed spread/ },
];

for (const c of cases) {
  test(`verdict: ${c.name}`, () => {
    const verdict = bertVerdict({ baseline: row('baseline', 0.5, 1.0, 0.48), bert: c.bert }, { beam: 3, noise: c.noise });
    assert.equal(verdict.survives, c.survives);
    assert.match(verdict.statement, c.says);
    assert.ok(Math.abs(verdict.freeRunning.gain - (c.bert.freeRunning[3]['BLEU-4'] - 0.48)) < 1e-12);
    assert.ok(verdict.statement.includes(c.bert.freeRunning[3]['BLEU-4'].toFixed(4)), 'the statement quotes the BERT free-running score');
    assert.ok(Math.abs(verdict.report.gain - 0.057) < 1e-9, "the report's gain, 26.8 - 21.1, on the 0-1 scale");
  });
}

test('a missing free-running score is an error naming the run', () => {
  const bert = { ...row('bert', 0.6, 0.5, 0.5), freeRunning: {} };
  assert.throws(() => bertVerdict({ baseline: row('baseline', 0.5, 1, 0.48), bert }), /run bert-0123456789ab \(bert\) has no free-running test BLEU-4 with beam 3/);
});
