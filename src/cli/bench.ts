/** `captioning bench` (also `npm run bench`): the speed figures of bench/, into results/bench.json. */
import { Command } from 'commander';

export function benchCommand(): Command {
  return new Command('bench')
    .description('time the benchmarks of bench/ (medians after warm-up) and write results/bench.json')
    .action(async () => {
      // bench/ sits beside src/: loaded only when asked for (require, not import(): the
      // `captioning` binary registers TypeScript for CommonJS loading only).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { runBenchmarks } = require('../../bench/run') as typeof import('../../bench/run');
      await runBenchmarks();
    });
}
