// Figure builders (loss curves, metric bars with protocols, attention over time, captions side
// by side, generated lengths) and their export through headless Chromium to PNG and SVG.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { inflateSync } from 'node:zlib';

import type { MetricRecord } from '../../src/tracking';
import { attentionFigure } from '../../src/viz/attention-figures';
import { captionComparisonFigure, captionLengths, generatedLengthFigure, wordUseFigure } from '../../src/viz/caption-figures';
import { exportFigure } from '../../src/viz/display';
import { encodePng, pngSize } from '../../src/viz/png';
import { closeRenderer, renderFigure } from '../../src/viz/renderer';
import { metricBarsFigure, movingAverage, trainingLossFigure, validationLossFigure } from '../../src/viz/training-figures';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'viz-figures-'));
after(async () => {
  await closeRenderer();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function history(epochs: number, stepsPerEpoch: number, scale: number): MetricRecord[] {
  const out: MetricRecord[] = [];
  let step = 0;
  for (let e = 0; e < epochs; e++) {
    for (let s = 0; s < stepsPerEpoch; s++) out.push({ kind: 'step', step: ++step, epoch: e, time: 0, loss: scale / step });
    out.push({ kind: 'epoch', step, epoch: e, time: 0, loss: scale / step, val_loss: scale / (e + 1) + 0.1 });
  }
  return out;
}

/** Width and height from a PNG's IHDR chunk, read here independently of src/viz/png.ts. */
function ihdr(png: Buffer): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(png.toString('ascii', 12, 16), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const runs = [
  { label: 'baseline', records: history(3, 5, 4) },
  { label: 'bert', records: history(3, 5, 2) },
];

test('loss curves: one trace per run, iterations and epochs on x', () => {
  const training = trainingLossFigure(runs);
  assert.equal(training.data.length, 2);
  assert.deepEqual(training.data[0].x, Array.from({ length: 15 }, (_, i) => i + 1));
  assert.equal((training.data[1].y as number[])[0], 2);
  const smoothed = trainingLossFigure(runs, { smooth: 3 });
  assert.equal(smoothed.data.length, 4, 'a faint raw curve under each smoothed one');
  assert.deepEqual(movingAverage([1, 2, 3, 4], 3), [1.5, 2, 3, 3.5]);
  const validation = validationLossFigure(runs);
  assert.deepEqual(validation.data[0].x, [1, 2, 3]);
  assert.deepEqual(validation.data[1].y, [2.1, 1.1, 2 / 3 + 0.1]);
  assert.throws(() => validationLossFigure([{ label: 'empty', records: [] }]), /no epoch records with a numeric "val_loss" in empty/);
});

test('a smoothed loss curve carries each raw point once: the smoothed line is thinned to a few points a window', () => {
  const long = [{ label: 'paper', records: history(120, 100, 4) }]; // 12,000 step lines: an aggregated paper-length log
  const raw = trainingLossFigure(long);
  const smoothed = trainingLossFigure(long, { smooth: 120 });
  const [faint, line] = smoothed.data as { x: number[]; y: number[]; opacity?: number }[];
  assert.equal(faint.opacity, 0.3);
  assert.equal(faint.x.length, 12_000, 'the faint raw curve has every point');
  assert.equal(line.x.length, 401, 'the moving average of 120 through every 30th point and the last');
  assert.equal(line.x.at(-1), 12_000);
  const full = movingAverage(faint.y, 120);
  line.x.forEach((x, i) => assert.equal(line.y[i], full[x - 1], `the moving average at ${x}`));
  const size = (f: object) => JSON.stringify(f).length;
  assert.ok(size(smoothed) < 1.1 * size(raw), `smoothed figure ${size(smoothed)} bytes vs ${size(raw)} for the raw curve alone`);
});

test('metric bars keep protocols apart and say them', () => {
  const fig = metricBarsFigure(
    [
      { group: 'baseline', metric: { name: 'BLEU-4', value: 0.2, split: 'test', protocol: 'free-running', beam: 3, implementation: 'coco-caption' } },
      { group: 'baseline', metric: { name: 'BLEU-4', value: 0.25, split: 'val', protocol: 'teacher-forced', implementation: 'nltk' } },
      { group: 'bert', metric: { name: 'BLEU-4', value: 0.18, split: 'test', protocol: 'free-running', beam: 3, implementation: 'coco-caption' } },
    ],
    { scale: 100 },
  );
  assert.deepEqual(fig.data.map((d) => d.name), ['BLEU-4 (test, free-running, beam 3)', 'BLEU-4 (val, teacher-forced, nltk)']);
  assert.deepEqual(fig.data[0].y, [20, 18]);
  assert.deepEqual(fig.data[1].y, [25, null]);
  assert.match(String(fig.data[0].hovertemplate), /coco-caption/);
});

test('metric bars of groups with one protocol each: one colour per metric across the groups, the protocol under each group', () => {
  const bar = (group: string, name: string, value: number, beam?: number) => ({ group, metric: { name, value, split: 'test', protocol: 'free-running', ...(beam ? { beam } : {}), implementation: 'coco-caption' } });
  const fig = metricBarsFigure([bar('prior', 'BLEU-1', 0.5), bar('prior', 'BLEU-4', 0.2), bar('greedy', 'BLEU-1', 0.7, 1), bar('greedy', 'BLEU-4', 0.4, 1), bar('beam 3', 'BLEU-1', 0.8, 3), bar('beam 3', 'BLEU-4', 0.5, 3)]);
  assert.deepEqual(fig.data.map((d) => d.name), ['BLEU-1', 'BLEU-4'], 'a legend entry per metric');
  assert.deepEqual(fig.data[0].x, ['prior<br><sup>test, free-running</sup>', 'greedy<br><sup>test, free-running, beam 1</sup>', 'beam 3<br><sup>test, free-running, beam 3</sup>']);
  assert.deepEqual(fig.data[1].y, [0.2, 0.4, 0.5]);
});

test('attention over time: the image, then a heat map per word over the [H, W] grid', () => {
  const [T, H, W] = [3, 2, 4];
  const alphas = Array.from({ length: T }, (_, t) => Array.from({ length: H }, (_, y) => Array.from({ length: W }, (_, x) => (t + y * W + x) / 20)));
  const pixels = { width: 16, height: 8, channels: 3 as const, data: new Uint8Array(16 * 8 * 3).fill(128) };
  const fig = attentionFigure({ image: pixels, words: ['a', 'red', 'circle'], alphas });
  const images = fig.data.filter((d) => d.type === 'image');
  const maps = fig.data.filter((d) => d.type === 'heatmap');
  assert.equal(images.length, T + 1);
  assert.equal(maps.length, T);
  assert.deepEqual(maps[1].z, alphas[1]);
  assert.equal(maps[0].dx, 16 / W, 'each region covers width / W pixels');
  assert.equal(maps[0].dy, 8 / H);
  assert.ok(String(images[0].source).startsWith('data:image/png;base64,'));
  const titles = (fig.layout!.annotations as { text: string }[]).map((a) => a.text);
  assert.deepEqual(titles, ['<i>image</i>', '<b>a</b>', '<b>red</b>', '<b>circle</b>']);
  // The flat form of a stored map gives the same grids.
  const flat = attentionFigure({ image: pixels, attention: { words: ['a', 'red', 'circle'], shape: [T, H, W], alphas: alphas.flat(2) } });
  assert.deepEqual(flat.data.filter((d) => d.type === 'heatmap').map((d) => d.z), alphas);
  assert.throws(() => attentionFigure({ image: pixels, words: ['a'], alphas }), /alphas has 3 steps but there are 1 words/);
});

test('captions side by side and generated-caption statistics', () => {
  const image = { rgb: [[[255, 0, 0], [0, 0, 255]], [[0, 255, 0], [9, 9, 9]]] };
  const fig = captionComparisonFigure(
    [
      { image, title: 'success', captions: [{ model: 'baseline', text: 'a red circle' }, { model: 'bert', text: 'a red square' }], references: ['A red circle.'] },
      { image, title: 'failure', captions: [{ model: 'baseline', text: 'two squares' }, { model: 'bert', text: 'a dog' }] },
    ],
    { columns: 2 },
  );
  assert.equal(fig.data.length, 2);
  const text = JSON.stringify(fig.layout!.annotations);
  for (const s of ['baseline:', 'bert:', 'a red square', 'ref: A red circle.', 'success', 'failure']) assert.ok(text.includes(s), s);
  assert.deepEqual(captionLengths(['A dog, running.', 'two  cats']), [3, 2], 'PTB tokens without punctuation');
  const lengths = generatedLengthFigure([{ label: 'model', captions: ['a b c', 'a b'] }, { label: 'refs', captions: ['a b c d'] }]);
  assert.deepEqual(lengths.data[0].y, [0, 0, 0.5, 0.5, 0]);
  assert.deepEqual(lengths.data[1].y, [0, 0, 0, 0, 1]);
  const words = wordUseFigure([{ label: 'model', captions: ['a red circle', 'a blue circle'] }], { top: 2 });
  assert.deepEqual(words.data[0].x, ['a', 'circle']);
});

test('PNG encoding: IHDR size and pixel rows round-trip', () => {
  const data = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30];
  const png = encodePng({ width: 2, height: 2, channels: 3, data });
  assert.deepEqual(ihdr(png), { width: 2, height: 2 });
  assert.deepEqual(pngSize(png), { width: 2, height: 2 });
  const idatLength = png.readUInt32BE(33);
  assert.equal(png.toString('ascii', 37, 41), 'IDAT');
  const raw = inflateSync(png.subarray(41, 41 + idatLength));
  assert.deepEqual([...raw], [0, ...data.slice(0, 6), 0, ...data.slice(6)]);
  assert.throws(() => encodePng({ width: 2, height: 2, channels: 3, data: [1, 2] }), /2 values; 2 x 2 x 3 channels needs 12/);
});

test('exportFigure renders SVG and PNG through Chromium: PNG at twice the layout size, SVG with the axis titles', async () => {
  const fig = validationLossFigure(runs, { width: 640, height: 360 });
  const { svg, png } = await exportFigure(fig, 'validation-loss-test', tmp);
  const pngBytes = fs.readFileSync(png);
  assert.deepEqual(ihdr(pngBytes), { width: 1280, height: 720 });
  assert.ok(pngBytes.length > 10_000, `a real plot, not an empty image (${pngBytes.length} bytes)`);
  const svgText = fs.readFileSync(svg, 'utf8');
  assert.ok(svgText.startsWith('<svg'), svgText.slice(0, 40));
  assert.ok(svgText.length > 5_000);
  for (const title of ['epoch', 'val_loss', 'Validation: val_loss per epoch', 'baseline', 'bert']) {
    assert.ok(svgText.includes(`>${title}<`), `SVG has the text ${title}`);
  }
  // The attention figure (images under heat maps) renders too, at its layout size.
  const attention = attentionFigure({
    image: { width: 8, height: 8, channels: 1, data: new Uint8Array(64).fill(200) },
    words: ['a', 'b'],
    alphas: [[[1, 0], [0, 0]], [[0, 0], [0, 1]]],
  });
  const rendered = await renderFigure(attention, { format: 'png' });
  assert.deepEqual(ihdr(rendered), { width: attention.layout!.width as number, height: attention.layout!.height as number });
});
