/** `captioning notebooks [files...]`: execute notebooks headlessly and fail on any cell error. */
import { Command } from 'commander';
import * as path from 'path';

import { listNotebooks, PROJECT_ROOT, runNotebooks } from '../notebooks/runner';

/**
 * nbconvert's "no limit" (nbclient: a timeout of None or -1 disables it). The default: a cell
 * that trains (a paper-profile run takes hours or days) must not be killed by a limit meant for
 * hung kernels; a failing cell still fails at once, and `--cell-timeout` sets a limit for CI.
 */
export const NO_CELL_TIMEOUT = -1;

/** `--cell-timeout`'s value: 'none' (no limit) or a whole number of seconds >= 1. */
export function parseCellTimeout(raw: string): number {
  if (raw.trim().toLowerCase() === 'none') return NO_CELL_TIMEOUT;
  const seconds = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isInteger(seconds) || seconds <= 0) {
    throw new Error(`--cell-timeout must be 'none' or a positive whole number of seconds, got ${JSON.stringify(raw)}`);
  }
  return seconds;
}

export function notebooksCommand(): Command {
  return new Command('notebooks')
    .description('execute notebooks with nbconvert (default: all of notebooks/), keeping their outputs')
    .argument('[files...]', 'notebooks to execute, in order')
    .option('--out <dir>', 'write executed copies here instead of updating the notebooks')
    .option('--cell-timeout <seconds>', "longest a cell may run, in seconds, or 'none' (default: none, since training cells of the paper profile run for hours)", 'none')
    .action(async (files: string[], options: { out?: string; cellTimeout: string }) => {
      const cellTimeoutSeconds = parseCellTimeout(options.cellTimeout);
      const notebooks = files.length > 0 ? files : listNotebooks(path.join(PROJECT_ROOT, 'notebooks'));
      if (notebooks.length === 0) throw new Error('no notebooks to execute');
      const results = await runNotebooks(notebooks, { outDir: options.out, cellTimeoutSeconds });
      const failed = results.filter((r) => !r.ok);
      for (const f of failed) process.stderr.write(`failed: ${path.relative(process.cwd(), f.notebook)}\n`);
      process.stdout.write(`notebooks: ${results.length - failed.length} passed, ${failed.length} failed\n`);
      if (failed.length > 0) process.exitCode = 1;
    });
}
