/**
 * The README's "COCO at scale" table from two `bench scale` runs: each stage's time and peak
 * memory at both sizes, and a straight-line extrapolation through them to COCO's Karpathy
 * split (123,287 images, 616,767 captions), said to be one. Disk grows with the images and
 * captions; peak memory and time are extrapolated from their measured growth.
 *
 *   npx tsx bench/scale/table.ts 4000 16000      # reads results/bench-scale-4000.json and -16000.json
 */
import * as fs from 'fs';
import * as path from 'path';

import { resultsRoot } from '../../src/tracking/paths';
import type { ScaleReport } from './index';

/** COCO 2014 with Karpathy's split. */
export const COCO_IMAGES = 123_287;

function load(images: number): ScaleReport {
  const file = path.join(resultsRoot(), `bench-scale-${images}.json`);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npx captioning bench scale --images ${images} first`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ScaleReport;
}

/** The value at COCO's size on the line through (a.images, va) and (b.images, vb), never below the larger measurement's. */
function extrapolate(a: number, va: number, b: number, vb: number): number {
  return Math.max(vb, va + ((vb - va) / (b - a)) * (COCO_IMAGES - a));
}

const round = (x: number, digits = 0) => Number(x.toFixed(digits)).toLocaleString('en-US');

/** Stages whose work does not grow with the data (their time is not extrapolated). */
const FIXED_WORK: Record<string, string> = { train: '300 steps', evaluate: '1,000 images', 'runs-list': '500 runs', report: '500 runs' };

export function scaleTable(small: ScaleReport, large: ScaleReport): string {
  const lines = [
    `| stage | ${round(small.images)} images: time, peak RSS | ${round(large.images)} images: time, peak RSS | COCO (${round(COCO_IMAGES)} images), extrapolated |`,
    '|---|---:|---:|---:|',
  ];
  for (const s of large.stages) {
    const t = small.stages.find((x) => x.name === s.name);
    if (!t) continue;
    const seconds = extrapolate(small.images, t.seconds, large.images, s.seconds);
    const rss = extrapolate(small.images, t.peakRssMB, large.images, s.peakRssMB);
    const time = FIXED_WORK[s.name] ? `(the same ${FIXED_WORK[s.name]})` : `${round(seconds, 1)} s`;
    lines.push(`| \`${s.name}\` | ${round(t.seconds, 1)} s, ${round(t.peakRssMB)} MB | ${round(s.seconds, 1)} s, ${round(s.peakRssMB)} MB | ${time}, ${round(rss)} MB |`);
  }
  const disk = (key: keyof ScaleReport['disk'], perImage: boolean) => {
    const a = small.disk[key];
    const b = large.disk[key];
    return `${round(a)} MB | ${round(b)} MB | ${perImage ? `${round((extrapolate(small.images, a, large.images, b) / 1024), 1)} GB` : `${round(b, 2)} MB`} |`;
  };
  lines.push(`| disk: features (8 x 8 x 2048 float16) | ${disk('featuresMB', true)}`);
  lines.push(`| disk: BERT vectors (768-d, bidirectional) | ${disk('bertVectorsMB', true)}`);
  lines.push(`| disk: metrics.jsonl of one paper-length run | ${small.disk.metricsMB} MB | ${large.disk.metricsMB} MB | ${large.disk.metricsMB} MB (does not grow with the data) |`);
  const train = large.stages.find((s) => s.name === 'train');
  if (train) lines.push('', `Training (${large.images} images): ${train.secondsPerStep} s a step on ${large.machine}, ${(Number(train.inputWaitShare) * 100).toFixed(1)}% of it waiting for input.`);
  return lines.join('\n');
}

if (require.main === module) {
  const [a, b] = process.argv.slice(2).map(Number);
  process.stdout.write(scaleTable(load(a || 4000), load(b || 16_000)) + '\n');
}
