// The ablation figures (issue #18): one colour per arm, labelled by arm, whiskers that are the
// seeds' sd, and the paired differences with their bootstrap intervals around a line at 0.
import { strict as assert } from 'node:assert';
import { after, test } from 'node:test';

import { spreadOf, type ArmSummary } from '../../src/analysis/ablations';
import type { PairedDifference } from '../../src/analysis/bootstrap';
import type { ArmComparison } from '../../src/analysis/comparisons';
import { ablationFigure, differenceFigure } from '../../src/viz/ablation-figures';
import { closeRenderer, renderFigure } from '../../src/viz/renderer';

after(closeRenderer);

const summary = (study: string, arm: string, values: number[]): ArmSummary => ({ study, arm, values: { 'test BLEU-4': spreadOf(values) } });
const summaries = [
  summary('word inputs', 'learned (reference)', [0.5, 0.52, 0.48]),
  summary('word inputs', 'BERT static', [0.45, 0.47, 0.46]),
  summary('context', 'mean feature', [0.3, 0.32, 0.34]),
];

test('ablationFigure: a bar per arm in its own colour at the mean, whiskers of the sd over seeds, a dot per seed', () => {
  const figure = ablationFigure(summaries, 'test BLEU-4', { scale: 100 });
  const bars = figure.data.filter((t) => t.type === 'bar') as { x: string[]; y: number[]; error_y: { array: number[] }; marker: { color: string } }[];
  assert.deepEqual(bars.map((b) => b.x[0]), ['learned (reference)', 'BERT static', 'mean feature'], 'labelled by arm');
  assert.equal(new Set(bars.map((b) => b.marker.color)).size, 3, 'one colour per arm');
  summaries.forEach((s, i) => {
    assert.ok(Math.abs(bars[i].y[0] - s.values['test BLEU-4'].mean * 100) < 1e-9);
    assert.ok(Math.abs(bars[i].error_y.array[0] - s.values['test BLEU-4'].sd * 100) < 1e-9);
  });
  const dots = figure.data.find((t) => t.type === 'scatter') as { y: number[] };
  assert.equal(dots.y.length, 9);
  assert.match(String((figure.layout!.title as { text: string }).text), /n=3/);
  // Two studies with an arm of the same name: the study tells them apart.
  const twice = ablationFigure([summary('a', 'same', [1]), summary('b', 'same', [2])], 'test BLEU-4');
  assert.deepEqual((twice.data.filter((t) => t.type === 'bar') as { x: string[] }[]).map((b) => b.x[0]), ['same (a)', 'same (b)']);
  assert.throws(() => ablationFigure(summaries, 'CIDEr-D'), /no arm has a value named "CIDEr-D"/);
});

const paired = (difference: number, low: number, high: number): PairedDifference => ({
  metric: 'BLEU-4', arm: 0, reference: 0, difference, low, high, level: 0.95, excludesZero: low > 0 || high < 0, resamples: 1000, differences: new Float64Array(0),
});
const comparison = (arm: string, d: PairedDifference | null): ArmComparison => ({
  study: 'word inputs',
  arm,
  scores: { 'BLEU-4': spreadOf([0.5, 0.5, 0.5]), 'CIDEr-D': spreadOf([1, 1, 1]) },
  differences: d ? { 'BLEU-4': d, 'CIDEr-D': { ...d, metric: 'CIDEr-D' } } : null,
});

test('differenceFigure: each arm at its difference with its interval as asymmetric error bars, filled when the interval excludes 0; the reference has no row', async () => {
  const comparisons = [comparison('learned (reference)', null), comparison('BERT static', paired(-0.05, -0.08, -0.02)), comparison('BERT causal', paired(0.01, -0.02, 0.03))];
  const figure = differenceFigure(comparisons, 'BLEU-4', { scale: 100 });
  const points = figure.data as { y: string[]; x: number[]; error_x: { array: number[]; arrayminus: number[] }; marker: { symbol: string; color: string } }[];
  assert.deepEqual(points.map((p) => p.y[0]), ['BERT static', 'BERT causal']);
  assert.ok(Math.abs(points[0].x[0] + 5) < 1e-9);
  assert.ok(Math.abs(points[0].error_x.array[0] - 3) < 1e-9 && Math.abs(points[0].error_x.arrayminus[0] - 3) < 1e-9, 'the interval -8 .. -2 around -5');
  assert.ok(Math.abs(points[1].error_x.array[0] - 2) < 1e-9 && Math.abs(points[1].error_x.arrayminus[0] - 3) < 1e-9, 'the interval -2 .. 3 around 1');
  assert.deepEqual(points.map((p) => p.marker.symbol), ['circle', 'circle-open']);
  assert.notEqual(points[0].marker.color, points[1].marker.color);
  assert.equal((figure.layout!.xaxis as { zeroline: boolean }).zeroline, true);
  assert.throws(() => differenceFigure([comparisons[0]], 'BLEU-4'), /no arm has a difference/);
  const svg = await renderFigure(figure, { format: 'svg' });
  for (const label of ['BERT static', 'BERT causal']) assert.ok(svg.toString().includes(label), `the SVG names ${label}`);
});
