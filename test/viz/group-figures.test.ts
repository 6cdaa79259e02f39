// Curves of runs grouped by arm (src/viz/group-figures.ts): the mean over a group's seeds and a
// band (min-max or ± sd) at each point every run of the group has, one colour per group; and the
// figure renders in Chromium.
import { strict as assert } from 'node:assert';
import { after, test } from 'node:test';

import type { MetricRecord } from '../../src/tracking';
import { groupCurvesFigure, groupSeries } from '../../src/viz/group-figures';
import { closeRenderer, renderFigure } from '../../src/viz/renderer';

after(() => closeRenderer());

/** A run's epoch records of val_loss (index = epoch). */
function run(label: string, losses: number[]) {
  const records: MetricRecord[] = losses.map((v, epoch) => ({ kind: 'epoch', step: (epoch + 1) * 10, epoch, time: 0, val_loss: v }));
  return { label, records };
}

const seeds = [run('a-s1', [3, 2, 1.5]), run('a-s2', [3.2, 2.4, 1.1]), run('a-s3', [2.8, 2.3])]; // the third stopped after two epochs

test('the mean over the seeds and its band, at the epochs every seed has', () => {
  const minMax = groupSeries({ label: 'a', runs: seeds }, 'epoch', 'val_loss', 'min-max');
  assert.deepEqual(minMax.x, [1, 2]);
  assert.deepEqual(minMax.mean, [3, (2 + 2.4 + 2.3) / 3]);
  assert.deepEqual([minMax.low, minMax.high], [[2.8, 2], [3.2, 2.4]]);
  const sd = groupSeries({ label: 'a', runs: seeds }, 'epoch', 'val_loss', 'sd');
  const spread = Math.sqrt(((3 - 3) ** 2 + (3.2 - 3) ** 2 + (2.8 - 3) ** 2) / 2);
  assert.ok(Math.abs(sd.low[0] - (3 - spread)) < 1e-12 && Math.abs(sd.high[0] - (3 + spread)) < 1e-12);
  assert.deepEqual(groupSeries({ label: 'one', runs: [seeds[0]] }, 'epoch', 'val_loss', 'sd').low, [3, 2, 1.5], 'one run: no spread');
});

test('one colour per group: a filled band under each mean line; it renders; no common points is an error naming the groups', async () => {
  const figure = groupCurvesFigure([{ label: 'a', runs: seeds }, { label: 'b', runs: [run('b-s1', [2, 1]), run('b-s2', [2.2, 1.2])] }], { band: 'sd' });
  const data = figure.data as Record<string, unknown>[];
  assert.equal(data.length, 6);
  assert.deepEqual(data.map((t) => t.fill ?? null), [null, 'tonexty', null, null, 'tonexty', null]);
  assert.deepEqual(data.filter((t) => t.name).map((t) => t.name), ['a (n=3)', 'b (n=2)']);
  assert.notEqual((data[2].line as { color: string }).color, (data[5].line as { color: string }).color);
  assert.match(String((figure.layout?.title as { text: string }).text), /line: mean over seeds; band: ± 1 sd/);
  const png = await renderFigure(figure, { format: 'png', width: 400, height: 300 });
  assert.ok(png.length > 1000, 'a PNG came back');
  assert.throws(() => groupCurvesFigure([{ label: 'x', runs: [run('x', [1])] }], { metric: 'bleu' }), /no epoch records with a numeric "bleu" common to the runs of x/);
  assert.throws(() => groupCurvesFigure([]), /no groups to plot/);
});
