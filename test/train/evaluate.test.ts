// The validation score early stopping reads: a missing or unavailable BLEU-4 is an error
// naming the evaluation, never a silent 0.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import type { MetricEntry } from '../../src/metrics';
import { requiredBleu4 } from '../../src/train/evaluate';

test('requiredBleu4 returns the score, and names the evaluation when BLEU-4 is missing or unavailable', () => {
  const bleu = (value: number): MetricEntry => ({ name: 'BLEU-4', value, implementation: 'coco-caption', split: 'val', protocol: 'free-running', images: 3 }) as unknown as MetricEntry;
  assert.equal(requiredBleu4([bleu(0.25)], 'free-running val'), 0.25);
  assert.equal(requiredBleu4([bleu(0)], 'free-running val'), 0, 'a real zero is a score');
  assert.throws(() => requiredBleu4([], 'free-running val (0 images)'), /free-running val \(0 images\): the scorer returned no BLEU-4/);
  const unavailable = { name: 'BLEU-4', available: false, reason: 'no hypotheses', implementation: 'coco-caption' } as unknown as MetricEntry;
  assert.throws(() => requiredBleu4([unavailable], 'teacher-forced val'), /teacher-forced val: BLEU-4 is unavailable/);
});
