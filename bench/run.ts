/**
 * `npm run bench`: the project's speed figures, each a median of several runs after a
 * warm-up, printed with the backend and thread count and written to results/bench.json.
 * Speed goals live here, never in timed tests.
 */
import * as os from 'os';
import * as path from 'path';

import { writeFileAtomic } from '../src/common/atomic-write';
import { describeEnvironment } from '../src/compute/environment';
import { benchMetrics } from './metrics';

/** One benchmark's result; `medianMs` is what the README quotes. */
export interface BenchResult {
  name: string;
  medianMs: number;
  runs: number;
  [detail: string]: string | number;
}

/** Runs every benchmark, prints each median and writes results/bench.json. */
export async function runBenchmarks(): Promise<BenchResult[]> {
  const environment = await describeEnvironment();
  const threads = environment.backend.details.threads ?? 'n/a';
  process.stdout.write(`bench on ${environment.backend.kind} (threads: ${threads}), ${os.cpus().length} cores, node ${process.version}\n`);
  const results: BenchResult[] = [];
  for (const bench of [benchMetrics]) {
    const result = (await bench()) as BenchResult;
    results.push(result);
    process.stdout.write(`  ${result.name}: median ${result.medianMs.toFixed(1)} ms over ${result.runs} runs\n`);
  }
  const file = path.join('results', 'bench.json');
  await writeFileAtomic(
    file,
    JSON.stringify({ date: new Date().toISOString(), backend: environment.backend, cpus: environment.cpus, node: environment.node, results }, null, 2) + '\n',
  );
  process.stdout.write(`written: ${file}\n`);
  return results;
}

if (require.main === module) {
  runBenchmarks().catch((error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
