/**
 * `captioning runs list|show|compare|rm|export-mlflow`: the run store from the terminal.
 *
 *   npx captioning runs list [--status finished]
 *   npx captioning runs show baseline-3f2a            # an id or a unique prefix
 *   npx captioning runs compare --sort "BLEU-4 (test, free-running, beam 3)" --desc --columns id "BLEU-4 (test, free-running, beam 3)"
 *   npx captioning runs rm baseline-3f2a9c1b7d0e
 *   npx captioning runs export-mlflow --out mlruns    # then: mlflow ui --backend-store-uri ./mlruns
 *
 * `--results DIR` (on `runs`) picks the results root (default: $CAPTIONING_RESULTS, else results/).
 */
import { Command, Option } from 'commander';

import { flattenConfig } from '../tracking/canonical';
import { runTable, stopLabel, type CompareFilter } from '../tracking/compare';
import { exportMlflow } from '../tracking/mlflow';
import { formatDuration } from '../common/progress-text';
import { protocolLabel, RUN_STATUSES, type RunStatus } from '../tracking/records';
import { listRuns, loadRun, removeRun } from '../tracking/store';
import { textTable, type TableCell } from '../viz/tables';

function rootOf(command: Command): string | undefined {
  return (command.optsWithGlobals() as { results?: string }).results;
}

/** Where a subcommand prints (stdout unless a test or a caller passes another writer). */
type Print = (text: string) => void;

function printer(write: (text: string) => void): Print {
  return (text) => write(text.endsWith('\n') ? text : text + '\n');
}

function listCommand(print: Print): Command {
  return new Command('list')
    .description('list the runs: id, status, epochs, training time, problems')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(RUN_STATUSES))
    .option('--json', 'print the entries as JSON')
    .action((options: { status?: RunStatus; json?: boolean }, command: Command) => {
      const entries = listRuns({ root: rootOf(command), status: options.status });
      if (options.json) return print(JSON.stringify(entries, null, 2));
      if (entries.length === 0) return print('no runs');
      const rows: TableCell[][] = entries.map((e) => [
        e.id,
        e.problem ? 'damaged' : e.lockedBy ? `${e.status} (pid ${e.lockedBy.pid})` : e.status,
        e.summary ? `${e.summary.epochs.completed}/${e.summary.epochs.planned}` : e.statusRecord ? `${e.statusRecord.epochsCompleted}/${e.statusRecord.epochsPlanned}` : '',
        e.summary?.epochs.best !== undefined ? e.summary.epochs.best + 1 : '',
        e.summary?.stop ? stopLabel(e.summary.stop) : e.statusRecord?.stop ? stopLabel(e.statusRecord.stop) : '',
        e.summary ? formatDuration(e.summary.trainingSeconds) : '',
        e.summary?.updatedAt ?? e.statusRecord?.updatedAt ?? '',
        e.problem ?? e.statusRecord?.error?.message ?? '',
      ]);
      print(textTable({ columns: ['id', 'status', 'epochs', 'best', 'stop', 'training', 'updated', 'problem'], rows }, { maxRows: 1000, maxColumnWidth: 100 }));
    });
}

function showCommand(print: Print): Command {
  return new Command('show')
    .description('show one run: config, metrics with their protocol, attempts, checkpoints, files')
    .argument('<run>', 'run id or unique prefix')
    .option('--json', 'print summary, status and environment as JSON')
    .action((id: string, options: { json?: boolean }, command: Command) => {
      const run = loadRun(id, { root: rootOf(command) });
      const status = run.status;
      if (!run.hasSummary()) {
        // Training now, or killed during its first attempt: only status.json exists yet.
        if (options.json) return print(JSON.stringify({ status, environment: run.environment }, null, 2));
        return print(`run       ${run.id}\nfolder    ${run.dir}\nstatus    ${status.status}, ${status.epochsCompleted}/${status.epochsPlanned} epochs (no summary yet)`);
      }
      const summary = run.summary;
      if (options.json) return print(JSON.stringify({ summary, status, environment: run.environment }, null, 2));
      const env = run.environment;
      const lines = [
        `run       ${run.id}`,
        `folder    ${run.dir}`,
        `status    ${status.status}, ${status.epochsCompleted}/${status.epochsPlanned} epochs trained${summary.stop ? ` (${stopLabel(summary.stop)}${summary.stop.detail ? `: ${summary.stop.detail}` : ''})` : ''}, ${formatDuration(summary.trainingSeconds)} of training`,
        ...(summary.epochs.best !== undefined ? [`best      epoch ${summary.epochs.best + 1}: train and val metrics below are this epoch's, test metrics were decoded from its checkpoint`] : []),
        ...(run.config.aliases && run.config.aliases.length > 1 ? [`names     ${run.config.aliases.join(', ')}`] : []),
        `backend   ${summary.backend}${env ? ` (tfjs ${env.backend.tfjsVersion}, ${env.hostname})` : ''}`,
        `git       ${summary.git.commit}${summary.git.dirty === true ? ' (uncommitted changes)' : ''}`,
        `seed      ${summary.seed}`,
        `data      ${Object.entries(summary.fingerprints).map(([k, v]) => `${k} ${v}`).join(', ') || '(no fingerprints)'}`,
        ...(status.error ? [`error     ${status.error.message}`] : []),
        '',
        'config',
        ...Object.entries(flattenConfig(summary.config)).map(([k, v]) => `  ${k} = ${JSON.stringify(v)}`),
        '',
      ];
      lines.push('');
      print(lines.join('\n'));
      print(
        textTable({
          columns: ['metric', 'value', 'protocol', 'epoch'],
          rows: summary.metrics.map((m) => [m.name, m.value, protocolLabel(m, { implementation: 'always' }), m.epoch !== undefined ? m.epoch + 1 : null]),
        }),
      );
      print(
        textTable({
          columns: ['attempt', 'status', 'started', 'from epoch', 'epochs', 'why'],
          rows: status.attempts.map((a) => [a.attempt, a.status, a.startedAt, a.startEpoch, a.epochsTrained, a.error ? `${a.reason}; error: ${a.error.message}` : a.reason]),
        }, { maxColumnWidth: 90 }),
      );
      const checkpoints = run.checkpoints();
      print(`checkpoints  ${checkpoints.map((c) => c.name).join(', ') || 'none'}${summary.best ? ` (best: epoch ${summary.best.epoch + 1}, ${summary.best.metric} ${summary.best.value})` : ''}`);
      print(`files        ${summary.files.join(', ') || 'none'}`);
    });
}

interface CompareOptions {
  status?: RunStatus;
  sort?: string[];
  desc?: boolean;
  format?: 'wide' | 'long';
  columns?: string[];
  csv?: boolean;
}

function compareCommand(print: Print): Command {
  return new Command('compare')
    .description('compare runs: params and metrics (one column per metric and protocol), sorted')
    .argument('[runs...]', 'run ids, prefixes or job names (default: all)')
    .addOption(new Option('--status <status>', 'only runs with this status (default: finished)').choices(RUN_STATUSES).default('finished'))
    .option('--sort <column...>', 'sort by these columns')
    .option('--desc', 'sort descending')
    .addOption(new Option('--format <format>', 'wide: a row per run; long: a row per run and metric').choices(['wide', 'long']).default('wide'))
    .option('--columns <column...>', 'columns to keep, in this order (quote names with spaces)')
    .option('--csv', 'print CSV')
    .action((ids: string[], options: CompareOptions, command: Command) => {
      const filter: CompareFilter = {
        root: rootOf(command),
        status: options.status,
        format: options.format,
        ...(ids.length ? { ids } : {}),
        ...(options.sort ? { sortBy: options.sort, ascending: !options.desc } : {}),
        ...(options.columns ? { columns: options.columns } : {}),
      };
      const table = runTable(filter);
      if (options.csv) {
        const q = (v: TableCell) => (v === null || v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
        return print([table.columns.map(q).join(','), ...table.rows.map((r) => table.columns.map((c) => q(r[c])).join(','))].join('\n'));
      }
      print(textTable({ columns: table.columns, rows: table.rows.map((r) => table.columns.map((c) => r[c])) }, { maxRows: 1000 }));
    });
}

function rmCommand(print: Print): Command {
  return new Command('rm')
    .description('remove runs (refuses while a live process trains one)')
    .argument('<runs...>', 'run ids or unique prefixes')
    .action(async (ids: string[], _options: unknown, command: Command) => {
      for (const id of ids) print(`removed ${await removeRun(id, { root: rootOf(command) })}`);
    });
}

function exportMlflowCommand(print: Print): Command {
  return new Command('export-mlflow')
    .description("write the runs into MLflow's file store layout (browse with: mlflow ui --backend-store-uri ./mlruns)")
    .option('--out <dir>', 'the mlruns folder', 'mlruns')
    .option('--experiment <name>', 'MLflow experiment name', 'captioning-lab')
    .action((options: { out: string; experiment: string }, command: Command) => {
      const result = exportMlflow({ root: rootOf(command), out: options.out, experimentName: options.experiment });
      print(`exported ${result.runs.length} run(s) to ${result.dir}/${result.experimentId} (experiment ${JSON.stringify(options.experiment)})`);
      for (const s of result.skipped) print(`skipped ${s.id}: ${s.reason}`);
    });
}

/** The `runs` command; `io.write` receives everything it prints (default: stdout). */
export function runsCommand(io: { write?: (text: string) => void } = {}): Command {
  const print = printer(io.write ?? ((text) => process.stdout.write(text)));
  const runs = new Command('runs')
    .description('list, show, compare, remove and export tracked runs')
    .option('--results <dir>', 'results root (default: $CAPTIONING_RESULTS, else results/)');
  // Like main.ts's program: errors throw (CommanderError) instead of exiting the process, and
  // usage errors show the help. Set here because addCommand does not pass settings down.
  for (const sub of [listCommand(print), showCommand(print), compareCommand(print), rmCommand(print), exportMlflowCommand(print)]) {
    runs.addCommand(sub.exitOverride().showHelpAfterError());
  }
  return runs;
}
