// Qualitative examples are picked by per-image score: the best images first, the worst as
// failures, the same image ids for every model, and the error names a run without captions.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import type { Run } from '../../src/tracking';
import { pickExamples, scoreImages } from '../../src/analysis/qualitative';

// Image k shows one circle of colour k; its five references say so in different words.
const colours: Record<number, string> = { 1: 'red', 2: 'blue', 3: 'green', 4: 'yellow', 5: 'purple' };
const refs = (c: string) => [`a ${c} circle`, `a ${c} circle on the left`, `there is a ${c} circle`, `one ${c} circle`, `a small ${c} circle`];
const dataset = {
  images: [1, 2, 3, 4, 5].map((id) => ({ id, split: 'test', captions: refs(colours[id]).map((raw) => ({ raw, tokens: raw.split(' ') })) })),
} as unknown as Parameters<typeof scoreImages>[0];

const fakeRun = (id: string, captions: Record<number, string>): Run =>
  ({ id, captions: (split: string) => (split === 'test' ? Object.entries(captions).map(([k, caption]) => ({ image_id: Number(k), caption })) : undefined) }) as unknown as Run;

test('images are ranked by the mean per-image score of the models; failures are the worst', () => {
  const a = fakeRun('a', { 1: 'a red circle', 2: 'a square', 3: 'a green circle on the left', 4: 'star', 5: 'a purple square' });
  const b = fakeRun('b', { 1: 'a red circle', 2: 'a star', 3: 'a green circle', 4: 'square', 5: 'a purple circle' });
  const scored = scoreImages(dataset, [{ label: 'A', run: a }, { label: 'B', run: b }]);
  assert.equal(scored.length, 5);
  for (let i = 1; i < scored.length; i++) assert.ok(scored[i - 1].score >= scored[i].score, 'sorted best first');
  assert.deepEqual(scored[0].captions.map((c) => c.model), ['A', 'B']);
  const picked = pickExamples(dataset, [{ label: 'A', run: a }, { label: 'B', run: b }], { successes: 2, failures: 2 });
  assert.deepEqual(picked.successes.map((s) => s.imageId), scored.slice(0, 2).map((s) => s.imageId));
  assert.deepEqual(new Set(picked.failures.map((s) => s.imageId)), new Set([2, 4]), 'the two images nobody captioned right');
  assert.throws(() => scoreImages(dataset, [{ label: 'C', run: fakeRun('c-run', {}) }]), /run c-run \(C\) has no test captions/);
});

test('a metric the in-process scorer cannot compute per image is an error naming it, not NaN scores in an arbitrary order', () => {
  const a = fakeRun('a', { 1: 'a red circle', 2: 'a square' });
  for (const metric of ['METEOR', 'SPICE'] as const) {
    assert.throws(() => scoreImages(dataset, [{ label: 'A', run: a }], { metric }), new RegExp(`no per-image ${metric} for image \\d+ of run a \\(A\\).*Java`));
  }
  // The metrics it does compute still rank images.
  assert.equal(scoreImages(dataset, [{ label: 'A', run: a }], { metric: 'ROUGE-L' })[0].imageId, 1);
});
