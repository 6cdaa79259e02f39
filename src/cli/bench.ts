/**
 * `captioning bench` (also `npm run bench`): the speed figures of bench/, into
 * results/bench.json; `captioning bench scale --images N`: the paper profile's data path at
 * COCO's shape (bench/scale), into results/bench-scale-N.json.
 */
import { Command } from 'commander';

import { positiveInteger } from './options';

// bench/ sits beside src/: loaded only when asked for (require, not import(): the
// `captioning` binary registers TypeScript for CommonJS loading only).
/* eslint-disable @typescript-eslint/no-require-imports */

function scaleCommand(): Command {
  return new Command('scale')
    .description('generate N COCO-shaped images (features, BERT vectors, 500 paper-length runs) once under results/bench-scale/N, then time each stage in its own process with its peak memory; writes results/bench-scale-N.json')
    .requiredOption('--images <n>', 'images in the generated split (at least 2,001: 1,000 val, 1,000 test, the rest train)', (raw: string) => positiveInteger('--images', raw))
    .action(async (options: { images: number }) => {
      const { runScaleBench } = require('../../bench/scale') as typeof import('../../bench/scale');
      const report = await runScaleBench({ images: options.images });
      if (report.limits.some((l) => !l.pass)) process.exitCode = 1;
    });
}

export function benchCommand(): Command {
  return new Command('bench')
    .description('time the benchmarks of bench/ (medians after warm-up) and write results/bench.json; `bench scale --images N` for the COCO-scale data path')
    .argument('[groups...]', 'groups and shapes to run (training, decoding, features, metrics; quick-data, quick, small, paper); default all')
    .action(async (groups: string[]) => {
      const { runBenchmarks } = require('../../bench/run') as typeof import('../../bench/run');
      await runBenchmarks(groups);
    })
    .addCommand(scaleCommand());
}
