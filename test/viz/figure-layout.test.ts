// Figures that read cleanly (issue #19): the layout check against boxes with known answers
// (rotated neighbours, overlaps, overhangs), then every figure the notebooks exported into
// report/ (the committed figures, as readers see them) laid out by Chromium: no two text
// elements overlap and none leaves the figure.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { checkFigureLayout, describeProblem, layoutProblems, overlapDepth } from '../../src/viz/layout-check';
import { closeRenderer, renderFigure } from '../../src/viz/renderer';

after(closeRenderer);

const FIGURES = path.resolve(__dirname, '..', '..', 'report', 'figures');

/** A w x h box at (x, y), turned by `degrees` about its top left corner. */
function box(text: string, x: number, y: number, w: number, h: number, degrees = 0) {
  const [c, s] = [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180)];
  const at = (dx: number, dy: number): [number, number] => [x + dx * c - dy * s, y + dx * s + dy * c];
  return { text, corners: [at(0, 0), at(w, 0), at(w, h), at(0, h)] };
}

test('overlaps are measured on rotated boxes: neighbouring rotated labels pass, crossing ones and overhangs do not', () => {
  // Two labels turned -30 degrees, 40 px apart: their upright bounding boxes overlap, the labels do not.
  const a = box('learned (reference)', 100, 200, 120, 14, -30);
  const b = box('BERT static', 140, 200, 120, 14, -30);
  assert.ok(overlapDepth(a.corners, b.corners) <= 0, 'rotated neighbours do not overlap');
  assert.deepEqual(layoutProblems({ width: 400, height: 300, texts: [a, b] }), []);
  const legend = box('seed 1', 100, 280, 60, 14);
  const title = box('epoch', 120, 285, 50, 16);
  const [overlap] = layoutProblems({ width: 400, height: 300, texts: [legend, title] });
  assert.equal(overlap.kind, 'overlap');
  assert.equal(describeProblem(overlap), `"seed 1" overlaps "epoch" by ${overlap.pixels.toFixed(1)} px`);
  assert.ok(Math.abs(overlap.pixels - 9) < 1e-9, 'the shallowest axis: 9 px vertically');
  const [outside] = layoutProblems({ width: 400, height: 300, texts: [box('value (0-1 scale)', -12, 100, 40, 14)] });
  assert.deepEqual([outside.kind, outside.pixels], ['outside', 12]);
  assert.deepEqual(layoutProblems({ width: 400, height: 300, texts: [box('a', 10, 10, 20, 10), box('b', 29.5, 10, 20, 10)] }), [], 'under a pixel is not a problem');
});

test('a figure whose legend sits on the axis title is caught in Chromium; the same figure with room passes', async () => {
  const figure = (legend: Record<string, unknown>, bottom: number) => ({
    data: [1, 2, 3].map((k) => ({ type: 'scatter', mode: 'lines', name: `seed ${k}`, x: [1, 2, 3], y: [k, k + 1, k + 2] })),
    layout: { width: 500, height: 360, xaxis: { title: { text: 'epoch' } }, legend: { orientation: 'h', ...legend }, margin: { b: bottom } },
  });
  const svg = (await renderFigure(figure({ y: -0.12, yanchor: 'top' }, 60), { format: 'svg' })).toString('utf8');
  const problems = await checkFigureLayout(svg);
  assert.ok(problems.some((p) => p.kind === 'overlap' && [p.text, p.other].includes('epoch')), `the legend on "epoch": ${problems.map(describeProblem).join('; ')}`);
  // What the figure builders do: the legend at the figure's bottom edge, the margin holding the axis title above it.
  const fixed = (await renderFigure(figure({ y: 0, yref: 'container', yanchor: 'bottom' }, 100), { format: 'svg' })).toString('utf8');
  assert.deepEqual((await checkFigureLayout(fixed)).map(describeProblem), []);
});

test('every figure the notebooks exported to report/figures reads cleanly', async () => {
  const files = fs.readdirSync(FIGURES).filter((f) => f.endsWith('.svg')).sort();
  assert.ok(files.length > 0, `no exported figures in ${FIGURES}`);
  const found: string[] = [];
  for (const file of files) {
    for (const p of await checkFigureLayout(fs.readFileSync(path.join(FIGURES, file), 'utf8'))) found.push(`${file}: ${describeProblem(p)}`);
  }
  assert.deepEqual(found, []);
});
