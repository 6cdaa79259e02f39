// The protocol table reads each protocol at the epoch it would select: teacher-forced numbers
// at the lowest teacher-forced validation loss, free-running ones from the early-stopping
// checkpoint's recorded scores; several seeds average into one row with its spread.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { resolveConfig } from '../../src/config';
import type { Run } from '../../src/tracking';
import { averageRows, protocolTable } from '../../src/analysis/protocols';

const fakeRun = (id: string, losses: number[], tfBleu: number[], best: number, free: Record<number, number>): Run =>
  ({
    id,
    history: () => losses.map((l, epoch) => ({ kind: 'epoch', step: (epoch + 1) * 10, epoch, time: 0, val_loss: l, val_cross_entropy: l - 0.05, val_tf_bleu4: tfBleu[epoch], val_bleu4: 0 })),
    summary: {
      best: { metric: 'val_bleu4', mode: 'max', value: 0, epoch: best },
      metrics: Object.entries(free).map(([beam, value]) => ({ name: 'BLEU-4', value, split: 'test', protocol: 'free-running', beam: Number(beam), implementation: 'coco-caption' })),
    },
  }) as unknown as Run;

test('each protocol at its own epoch, and seeds averaged with their spread', async () => {
  const config = resolveConfig('quick');
  const rows = await protocolTable(
    [
      { label: 'a', run: fakeRun('a-1', [1.0, 0.8, 0.9], [0.3, 0.35, 0.4], 0, { 1: 0.2, 3: 0.3 }), config },
      { label: 'b', run: fakeRun('b-1', [1.2, 1.1, 0.7], [0.2, 0.25, 0.5], 2, { 1: 0.4, 3: 0.5 }), config },
    ],
    { beams: [1, 3] },
  );
  assert.deepEqual(rows[0].teacherForced, { loss: 0.8, crossEntropy: 0.8 - 0.05, bleu4: 0.35, minLoss: 0.8, epoch: 1 });
  assert.equal(rows[0].bestEpoch, 0, 'the early-stopping epoch is kept apart');
  assert.deepEqual(rows[0].freeRunning, { 1: { 'BLEU-4': 0.2 }, 3: { 'BLEU-4': 0.3 } });
  const { row, sd, seeds } = averageRows('both', rows);
  assert.equal(seeds, 2);
  assert.ok(Math.abs(row.teacherForced.loss - 0.75) < 1e-12);
  assert.ok(Math.abs(row.freeRunning[3]['BLEU-4'] - 0.4) < 1e-12);
  assert.ok(Math.abs(sd.freeRunning[3]['BLEU-4'] - Math.sqrt(0.02)) < 1e-12, 'sample standard deviation of 0.3 and 0.5');
});
