// The plain-text score table printed by the command line.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { formatScoresTable, type CaptionScores } from '../../src/metrics';

const SCORES: CaptionScores = {
  metrics: [
    { name: 'BLEU-4', value: 0.302756, implementation: 'coco-caption', split: 'test', protocol: 'free-running', beam: 3 },
    { name: 'METEOR', available: false, reason: 'METEOR needs Java', implementation: 'coco-caption', split: 'test', protocol: 'free-running', beam: 3 },
    { name: 'CIDEr-D', value: 1.13, implementation: 'coco-caption', split: 'test', protocol: 'free-running', beam: 3 },
  ],
  perImage: [],
  images: 2,
  subset: { evaluated: 2, of: 5 },
};

test('one aligned row per metric, 4 decimals, protocol columns', () => {
  const lines = formatScoresTable(SCORES).trimEnd().split('\n');
  assert.deepEqual(lines[0].split(/\s+/), ['metric', 'value', 'split', 'protocol', 'beam', 'implementation']);
  assert.deepEqual(lines[1].split(/\s+/), ['BLEU-4', '0.3028', 'test', 'free-running', '3', 'coco-caption']);
  assert.deepEqual(lines[3].split(/\s+/), ['CIDEr-D', '1.1300', 'test', 'free-running', '3', 'coco-caption']);
  // columns line up: "value" starts at the same offset in every row
  const at = lines[0].indexOf('value');
  assert.equal(lines[1].indexOf('0.3028'), at);
  assert.equal(lines[3].indexOf('1.1300'), at);
});

test('unavailable metrics show n/a and the reason; a subset is stated', () => {
  const text = formatScoresTable(SCORES);
  assert.match(text, /^METEOR\s+n\/a\s+test\s+free-running\s+3\s+coco-caption\s+\(METEOR needs Java\)$/m);
  assert.match(text, /^subset: 2 of 5 images scored$/m);
});

test('missing protocol fields print as -, decimals are configurable', () => {
  const text = formatScoresTable([{ name: 'ROUGE-L', value: 0.5, implementation: 'coco-caption' }], { decimals: 2 });
  assert.deepEqual(text.trimEnd().split('\n')[1].split(/\s+/), ['ROUGE-L', '0.50', '-', '-', '-', 'coco-caption']);
});
