// The caption-prior baseline: the fast search picks the caption with the best train
// BLEU-4, as scoring every candidate with the toolkit's scorer does.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import type { DatasetImage } from '../../src/data/dataset';
import { computeCaptionMetrics } from '../../src/metrics';
import { bestSingleCaption, scorePrior } from '../../src/model/caption-prior';

const raw = [
  ['a red circle on the left', 'A red circle.', 'a circle that is red'],
  ['a blue square', 'a blue square on the left', 'Blue square!'],
  ['a red square on the left', 'a red square', 'the square is red'],
  ['a green circle', 'a green circle on the right', 'circle, green'],
];
const images: DatasetImage[] = raw.map((caps, i) => ({
  id: i,
  file: `${i}.png`,
  split: i < 3 ? 'train' : 'test',
  sourceSplit: i < 3 ? 'train' : 'test',
  captions: caps.map((c, j) => ({ id: i * 10 + j, raw: c, tokens: c.toLowerCase().split(/\W+/).filter(Boolean) })),
}));

test('the best single caption agrees with scoring every candidate by the toolkit', () => {
  const prior = bestSingleCaption({ images });
  const train = images.filter((im) => im.split === 'train');
  const refs = new Map(train.map((im) => [im.id, im.captions.map((c) => c.raw)]));
  let best = -1;
  for (const candidate of train.flatMap((im) => im.captions.map((c) => c.raw))) {
    const { metrics } = computeCaptionMetrics(refs, new Map(train.map((im) => [im.id, candidate])), { metrics: ['BLEU'] });
    const b4 = metrics.find((m) => m.name === 'BLEU-4');
    best = Math.max(best, b4 && 'value' in b4 ? b4.value : 0);
  }
  assert.ok(Math.abs(prior.trainBleu4 - best) < 1e-12, `${prior.trainBleu4} vs ${best}`);
  assert.equal(prior.candidates, 9);
  const test = scorePrior({ images }, prior.caption, 'test');
  assert.ok(test.bleu4 >= 0 && test.bleu4 <= 1);
  assert.equal(test.metrics.find((m) => m.name === 'BLEU-4')?.protocol, 'free-running');
});
