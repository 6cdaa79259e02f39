/**
 * The `captioning` command line: one binary, one subcommand per job (DESIGN.md).
 *
 *   npx captioning --help
 *   npx captioning env                 # machine, versions, compute backend
 *   npx captioning notebooks           # execute every notebook headlessly
 *   npx captioning score --annotations A --results R   # COCO caption metrics
 *
 * Each subcommand lives in its own file beside this one.
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
import { sweepCommand } from './sweep';
import { evalCommand, trainCommand } from './train';
import { benchCommand } from './bench';

export function buildProgram(): Command {
  const program = new Command('captioning')
    .description('Reproduce, extend and audit image-captioning experiments (Show-Attend-Tell vs BERT embeddings).')
    .version(installedVersion('captioning-lab'), '-V, --version')
    .showHelpAfterError()
    .exitOverride();

  for (const command of [envCommand(), notebooksCommand(), dataCommand(), trainCommand(), evalCommand(), scoreCommand(), runsCommand(), sweepCommand(), reportCommand(), benchCommand()]) {
    program.addCommand(command.copyInheritedSettings(program));
  }

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
    return 1;
  } finally {
    await closeRenderer();
  }
}

if (require.main === module) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
