/**
 * `npx captioning bench scale --images N` (or `npm run bench -- scale --images N`): the paper
 * profile's data path at COCO's shape, measured on this machine. Generates N COCO-shaped
 * images' inputs once under results/bench-scale/<N>/ (generate.ts), runs each stage in a
 * process of its own (stage.ts, measure.ts), and writes results/bench-scale-<N>.json:
 *
 *   { images, captions, stages: [{ name, seconds, peakRssMB, … }], disk: { featuresMB, bertVectorsMB, metricsMB }, limits: [...] }
 *
 * The limits it checks (and prints, pass or fail): no stage's peak RSS over 2.5 GB; the
 * training stage's input wait under 5% of step time; a paper-length metrics.jsonl under 5 MB;
 * and, when the other size's file is there, no stage's peak growing more than 1.5x from
 * 4,000 to 16,000 images.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { writeFileAtomic } from '../../src/common/atomic-write';
import { resultsRoot } from '../../src/tracking/paths';
import { selectBackend } from '../../src/compute/backend';
import { generateScaleInputs } from './generate';
import { scaleLayout, STAGES } from './layout';
import { runStage, type StageResult } from './measure';

export const LIMITS = { peakRssMB: 2500, inputWaitShare: 0.05, metricsMB: 5, growth: 1.5 };

export interface ScaleReport {
  images: number;
  captions: number;
  stages: StageResult[];
  disk: { featuresMB: number; bertVectorsMB: number; metricsMB: number };
  limits: { limit: string; value: number; pass: boolean }[];
  machine: string;
  measuredAt: string;
}

function megabytes(folder: string): number {
  // du counts blocks on disk (hard links once), what a user has to provision.
  const out = execFileSync('du', ['-sk', folder], { encoding: 'utf8' });
  return Math.round(Number(out.split('\t')[0]) / 1024);
}

function largestMetricsMB(resultsDir: string): number {
  const runs = path.join(resultsDir, 'runs');
  let largest = 0;
  for (const id of fs.readdirSync(runs)) {
    const file = path.join(runs, id, 'metrics.jsonl');
    if (fs.existsSync(file)) largest = Math.max(largest, fs.statSync(file).size);
  }
  return Math.round((largest / 2 ** 20) * 100) / 100;
}

function reportFile(images: number): string {
  return path.join(resultsRoot(), `bench-scale-${images}.json`);
}

function limitsOf(report: Omit<ScaleReport, 'limits'>): ScaleReport['limits'] {
  const limits: ScaleReport['limits'] = [];
  for (const s of report.stages) limits.push({ limit: `${s.name}: peak RSS <= ${LIMITS.peakRssMB} MB`, value: s.peakRssMB, pass: s.peakRssMB <= LIMITS.peakRssMB });
  const train = report.stages.find((s) => s.name === 'train');
  if (train) limits.push({ limit: `train: input wait < ${LIMITS.inputWaitShare * 100}% of step time`, value: Number(train.inputWaitShare), pass: Number(train.inputWaitShare) < LIMITS.inputWaitShare });
  limits.push({ limit: `metrics.jsonl of a paper-length run < ${LIMITS.metricsMB} MB`, value: report.disk.metricsMB, pass: report.disk.metricsMB < LIMITS.metricsMB });
  const [small, large] = report.images === 16_000 ? [4000, 16_000] : report.images === 4000 ? [4000, 16_000] : [0, 0];
  const other = report.images === small ? large : small;
  if (other && fs.existsSync(reportFile(other))) {
    const previous = JSON.parse(fs.readFileSync(reportFile(other), 'utf8')) as ScaleReport;
    const [lo, hi] = report.images === small ? [report, previous] : [previous, report];
    for (const s of hi.stages) {
      const base = lo.stages.find((t) => t.name === s.name);
      if (!base) continue;
      const ratio = Math.round((s.peakRssMB / base.peakRssMB) * 100) / 100;
      limits.push({ limit: `${s.name}: peak RSS ${small} -> ${large} images grows <= ${LIMITS.growth}x`, value: ratio, pass: ratio <= LIMITS.growth });
    }
  }
  return limits;
}

export async function runScaleBench(options: { images: number; root?: string; log?: (line: string) => void }): Promise<ScaleReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const root = options.root ?? path.join(resultsRoot(), 'bench-scale');
  const layout = scaleLayout(root, options.images);
  await selectBackend({ log: null });
  await generateScaleInputs(layout, { images: options.images, log });
  const stages: StageResult[] = [];
  for (const name of STAGES) {
    log(`stage ${name} …`);
    const result = await runStage(name, { dir: root, images: options.images }, log);
    log(`stage ${name}: ${result.seconds} s, peak ${result.peakRssMB} MB`);
    stages.push(result);
  }
  const captions = Number(stages.find((s) => s.name === 'dataset')?.captions ?? 0);
  const disk = { featuresMB: megabytes(layout.features), bertVectorsMB: megabytes(layout.bertCache), metricsMB: largestMetricsMB(layout.results) };
  const partial = { images: options.images, captions, stages, disk, machine: `${require('os').cpus().length} cores, node ${process.version}`, measuredAt: new Date().toISOString() };
  const report: ScaleReport = { ...partial, limits: limitsOf(partial) };
  await writeFileAtomic(reportFile(options.images), JSON.stringify(report, null, 2) + '\n');
  printReport(report);
  return report;
}

function printReport(report: ScaleReport): void {
  const rows = report.stages.map((s) => {
    const extra = Object.entries(s).filter(([k]) => !['name', 'seconds', 'peakRssMB'].includes(k)).map(([k, v]) => `${k} ${v}`).join(', ');
    return `  ${s.name.padEnd(13)} ${String(s.seconds).padStart(8)} s ${String(s.peakRssMB).padStart(7)} MB  ${extra}`;
  });
  const lines = [
    `bench scale: ${report.images} images, ${report.captions} train+val captions`,
    `  ${'stage'.padEnd(13)} ${'time'.padStart(10)} ${'peak RSS'.padStart(10)}`,
    ...rows,
    `  disk: features ${report.disk.featuresMB} MB, BERT vectors ${report.disk.bertVectorsMB} MB, metrics.jsonl of a paper-length run ${report.disk.metricsMB} MB`,
    ...report.limits.map((l) => `  ${l.pass ? 'pass' : 'FAIL'}  ${l.limit} (${l.value})`),
    `written to ${reportFile(report.images)}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
