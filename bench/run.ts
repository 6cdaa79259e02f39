/**
 * `npm run bench`: the project's speed figures, each a median of several runs after a
 * warm-up, printed with the backend and thread count and written to results/bench.json.
 * Speed goals live here, never in timed tests.
 *
 *   training   one optimiser step, shapes quick / small / paper (bench/training-step.ts)
 *   decoding   captions per second of batched beam-3 search (bench/decoding.ts)
 *   features   images per second through the quick profile's MobileNetV2 (bench/features.ts)
 *   metrics    scoreCaptions on a COCO-sized split, and the paired bootstrap over it (bench/metrics.ts)
 *   kernels    products on XNNPACK vs OpenBLAS, Adam in tfjs ops vs one native pass (bench/kernels.ts)
 *
 * Training, decoding and features run twice: "before" (the plain teacher forcing, without
 * the fused kernels, and the stock wasm Identity and transposes,
 * i.e. the code before issue #9) and "after" (what training uses). Both give the same
 * numbers; only the time differs.
 *
 *   npx tsx bench/run.ts                      # everything (about 4 minutes on 2 cores)
 *   npx tsx bench/run.ts training small       # some groups and/or shapes
 *   BENCH_OUT=results/x.json npx tsx bench/run.ts
 */
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';

import { writeFileAtomic } from '../src/common/atomic-write';
import { describeEnvironment } from '../src/compute/environment';
import { setWasmSpeedups } from '../src/compute/wasm-speedups';
import type { TeacherForcingImplementation } from '../src/train/loss';
import { benchDecoding } from './decoding';
import { benchFeatures } from './features';
import { benchKernels } from './kernels';
import { benchBootstrap, benchMetrics } from './metrics';
import type { BenchResult } from './timing';
import { benchTrainingSteps, TRAINING_SHAPES } from './training-step';

export type { BenchResult } from './timing';

const GROUPS = ['training', 'decoding', 'features', 'metrics', 'kernels'] as const;
const TRAINING_SHAPE_NAMES = ['quick-data', ...TRAINING_SHAPES.map((s) => s.name)];
/** Shapes also timed with 2 data-parallel workers (issue #16: a lone run on every core). */
const DATA_PARALLEL_SHAPES = ['quick-data', 'small'];
type Group = (typeof GROUPS)[number];

/** The two columns: the code before issue #9's optimisations, and after. */
const VARIANTS: readonly { column: 'before' | 'after'; teacherForcing: TeacherForcingImplementation; speedups: boolean }[] = [
  { column: 'before', teacherForcing: 'reference', speedups: false },
  { column: 'after', teacherForcing: 'optimised', speedups: true },
];

/** One variant's results, labelled with its column. */
async function inColumn(variant: (typeof VARIANTS)[number], run: () => Promise<BenchResult[]>): Promise<BenchResult[]> {
  const previous = setWasmSpeedups(variant.speedups);
  try {
    return (await run()).map((r) => ({ ...r, column: variant.column }));
  } finally {
    setWasmSpeedups(previous);
  }
}

/** Runs the chosen benchmarks (default all), prints each median and writes the JSON file. */
export async function runBenchmarks(args: readonly string[] = []): Promise<BenchResult[]> {
  const groups = args.filter((a): a is Group => (GROUPS as readonly string[]).includes(a));
  const shapes = args.filter((a) => !(GROUPS as readonly string[]).includes(a));
  const chosen = groups.length > 0 ? groups : GROUPS;
  const environment = await describeEnvironment();
  const threads = environment.backend.details.threads ?? 'n/a';
  process.stdout.write(`bench on ${environment.backend.kind} (threads: ${threads}), ${os.cpus().length} cores, node ${process.version}\n`);
  const results: BenchResult[] = [];
  const report = (batch: BenchResult[]) => {
    for (const r of batch) {
      results.push(r);
      const rate = r.captionsPerSecond !== undefined ? `, ${r.captionsPerSecond} captions/s` : r.imagesPerSecond !== undefined ? `, ${r.imagesPerSecond} images/s` : '';
      const column = r.column ? `[${r.column}] ` : '';
      process.stdout.write(`  ${column}${r.name}: median ${r.medianMs.toFixed(1)} ms${typeof r.minMs === 'number' ? ` (min ${r.minMs.toFixed(1)})` : ''} over ${r.runs} runs${rate}\n`);
    }
  };
  for (const group of chosen) {
    switch (group) {
      case 'training':
        // Shape by shape, before then after: the two columns see the same machine load.
        for (const shape of TRAINING_SHAPE_NAMES) {
          if (shapes.length > 0 && !shapes.includes(shape)) continue;
          for (const v of VARIANTS) {
            if (shape === 'paper' && v.column === 'before') {
              // Measured: the code before issue #9 aborts the wasm module (heap over 4 GiB) at this shape; an abort ends the process.
              report([{ name: 'training step, paper, reference', medianMs: NaN, runs: 0, column: v.column, note: 'not run: needs more than the 4 GiB wasm heap (aborts)' }]);
              continue;
            }
            report(await inColumn(v, () => benchTrainingSteps([shape], [v.teacherForcing])));
          }
          if (DATA_PARALLEL_SHAPES.includes(shape)) {
            // The after column again with 2 data-parallel workers (src/train/data-parallel.ts), on the same machine load.
            const after = VARIANTS.find((v) => v.column === 'after')!;
            report((await inColumn(after, () => benchTrainingSteps([shape], [after.teacherForcing], 2))).map((r) => ({ ...r, column: 'after, 2 workers' })));
          }
          if (shape === 'small') report(torchSmallStep());
        }
        break;
      case 'decoding':
        for (const v of VARIANTS) report(await inColumn(v, () => benchDecoding(shapes)));
        break;
      case 'features':
        for (const v of VARIANTS) report(await inColumn(v, () => benchFeatures()));
        break;
      case 'metrics':
        report([(await benchMetrics()) as BenchResult, (await benchBootstrap(1000, 1)) as BenchResult, ...(os.availableParallelism() > 1 ? [(await benchBootstrap(1000)) as BenchResult] : [])]);
        break;
      case 'kernels':
        report(benchKernels());
        break;
      default: {
        const never: never = group;
        throw new Error(`unknown bench group ${String(never)}; use ${GROUPS.join(', ')}`);
      }
    }
  }
  const file = process.env.BENCH_OUT ?? path.join('results', 'bench.json');
  await writeFileAtomic(
    file,
    JSON.stringify({ date: new Date().toISOString(), backend: environment.backend, cpus: environment.cpus, node: environment.node, args, results }, null, 2) + '\n',
  );
  process.stdout.write(`written: ${file}\n`);
  return results;
}

/**
 * The same `small` step in PyTorch (bench/sat_torch.py), on 1 thread and on every core, when
 * Debian's python3-torch is installed; else a line saying how to get the comparison.
 */
function torchSmallStep(): BenchResult[] {
  const script = path.join(__dirname, 'sat_torch.py');
  const probe = spawnSync('python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    process.stdout.write('  PyTorch comparison: python3-torch is not installed (apt-get install python3-torch); not run\n');
    return [];
  }
  return [1, os.availableParallelism()].map((threads) => {
    const run = spawnSync('python3', [script, '--threads', String(threads)], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`bench/sat_torch.py --threads ${threads} failed: ${run.stderr}`);
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as { medianMs: number; minMs: number; runs: number; torch: string };
    return { name: `training step, small, PyTorch ${out.torch}, ${threads} thread(s)`, medianMs: out.medianMs, minMs: out.minMs, runs: out.runs, column: 'pytorch' };
  });
}

if (require.main === module) {
  runBenchmarks(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
