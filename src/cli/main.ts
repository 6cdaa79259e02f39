/**
 * The `captioning` command line: one binary, one subcommand per job (DESIGN.md).
 *
 *   npx captioning --help
 *   npx captioning env                 # machine, versions, compute backend
 *   npx captioning notebooks           # execute every notebook headlessly
 *   npx captioning score --annotations A --results R   # COCO caption metrics
 *
 * Subcommands that later issues fill are listed with the issue that builds them, and say so
 * when called, so that `--help` shows the whole shape of the tool from the start.
 */
import { Command, CommanderError } from 'commander';

import { installedVersion } from '../compute/environment';
import { closeRenderer } from '../viz/renderer';
import { dataCommand } from './data';
import { envCommand } from './env';
import { notebooksCommand } from './notebooks';
import { reportCommand } from './report';
import { runsCommand } from './runs';
import { scoreCommand } from './score';
import { benchCommand } from './bench';

/** A subcommand whose implementation has not landed yet. */
class NotBuiltYet extends Error {}

function notBuiltYet(name: string, arrivesWith: string): () => never {
  return () => {
    throw new NotBuiltYet(`'captioning ${name}' is not built yet: it arrives with ${arrivesWith}`);
  };
}

export function buildProgram(): Command {
  const program = new Command('captioning')
    .description('Reproduce, extend and audit image-captioning experiments (Show-Attend-Tell vs BERT embeddings).')
    .version(installedVersion('captioning-lab'), '-V, --version')
    .showHelpAfterError()
    .exitOverride();

  for (const command of [envCommand(), notebooksCommand(), dataCommand(), scoreCommand(), runsCommand(), reportCommand(), benchCommand()]) {
    program.addCommand(command.copyInheritedSettings(program));
  }

  program
    .command('train')
    .description('train a captioner (or load the finished run) and print its run folder')
    .option('--profile <profile>', 'quick | paper', 'quick')
    .option('--variant <variant>', 'baseline | bert', 'baseline')
    .option('--set <key=value...>', 'override config values')
    .action(notBuiltYet('train', 'issue #6 (Show, Attend and Tell)'));
  program
    .command('eval <run>')
    .description('decode free-running and write the metrics into the run summary')
    .option('--split <split>', 'val | test', 'test')
    .option('--beam <size>', 'beam size', '3')
    .action(notBuiltYet('eval', 'issue #6 (Show, Attend and Tell)'));

  return program;
}

/** Runs the command line; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode; // commander printed the message
    process.stderr.write(`captioning: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof NotBuiltYet ? 2 : 1;
  } finally {
    await closeRenderer();
  }
}

if (require.main === module) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
