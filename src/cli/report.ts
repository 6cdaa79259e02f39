/**
 * `captioning report [--results DIR] [--out DIR] [--no-figures]` (and `npm run report`):
 * builds report/ from results/ (src/report/build.ts): README.md, index.html, runs.csv,
 * metrics.csv and the runs' loss curves in report/figures/.
 */
import { Command } from 'commander';

import { buildReport } from '../report/build';

interface ReportCommandOptions {
  results?: string;
  out?: string;
  figures: boolean;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('build report/ (README.md, index.html, CSV tables, loss figures) from the runs in results/')
    .option('--results <dir>', 'results root (default: $CAPTIONING_RESULTS, else results/)')
    .option('--out <dir>', 'report folder (default: report/)')
    .option('--no-figures', 'do not render the loss curves (no Chromium needed)')
    .action(async (options: ReportCommandOptions) => {
      const report = await buildReport({ results: options.results, out: options.out, figures: options.figures });
      const what = report.runs === 0 ? 'no finished runs' : `${report.runs} finished run(s)`;
      process.stdout.write(`report written: ${report.dir}/README.md and index.html (${what}, ${report.figures.length} figure file(s))\n`);
      for (const w of report.warnings) process.stdout.write(`warning: ${w}\n`);
    });
}
