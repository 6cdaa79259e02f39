/** `captioning notebooks [files...]`: execute notebooks headlessly and fail on any cell error. */
import { Command } from 'commander';
import * as path from 'path';

import { listNotebooks, PROJECT_ROOT, runNotebooks } from '../notebooks/runner';

export function notebooksCommand(): Command {
  return new Command('notebooks')
    .description('execute notebooks with nbconvert (default: all of notebooks/), keeping their outputs')
    .argument('[files...]', 'notebooks to execute, in order')
    .option('--out <dir>', 'write executed copies here instead of updating the notebooks')
    .option('--cell-timeout <seconds>', 'longest a cell may run', '3600')
    .action(async (files: string[], options: { out?: string; cellTimeout: string }) => {
      const cellTimeoutSeconds = Number(options.cellTimeout);
      if (!Number.isInteger(cellTimeoutSeconds) || cellTimeoutSeconds <= 0) {
        throw new Error(`--cell-timeout must be a positive whole number of seconds, got ${JSON.stringify(options.cellTimeout)}`);
      }
      const notebooks = files.length > 0 ? files : listNotebooks(path.join(PROJECT_ROOT, 'notebooks'));
      if (notebooks.length === 0) throw new Error('no notebooks to execute');
      const results = await runNotebooks(notebooks, { outDir: options.out, cellTimeoutSeconds });
      const failed = results.filter((r) => !r.ok);
      for (const f of failed) process.stderr.write(`failed: ${path.relative(process.cwd(), f.notebook)}\n`);
      process.stdout.write(`notebooks: ${results.length - failed.length} passed, ${failed.length} failed\n`);
      if (failed.length > 0) process.exitCode = 1;
    });
}
