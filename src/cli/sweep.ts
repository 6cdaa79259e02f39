/**
 * `captioning sweep`: a sweep file's runs, planned, trained here or on a Slurm cluster, and
 * followed (src/sweeps/).
 *
 *   npx captioning sweep plan sweeps/ablations.yaml                       # what would train
 *   npx captioning sweep run sweeps/ablations.yaml --executor local       # train here
 *   npx captioning sweep run FILE --executor slurm --partition gpu --gpus 1 --time 04:00:00
 *   npx captioning sweep status FILE                                      # finished / running / pending / failed
 *   npx captioning sweep run FILE --executor slurm --resubmit-failed      # only the failed ones again
 */
import { Command, Option } from 'commander';

import { expandSweep, readSweepFile, runLocal, runSlurm, type RequestStatus, type SlurmSettings, type Sweep, sweepStatus } from '../sweeps';
import { positiveInteger } from './options';

/** One line per request: its index, name, state and where (run id, job and task, Slurm's word). */
function statusLines(statuses: readonly RequestStatus[]): string[] {
  const width = Math.max(4, ...statuses.map((s) => s.request.name.length));
  return statuses.flatMap((s) => {
    const where = s.run ? `run ${s.run.id}` : s.task ? `job ${s.task.jobId}_${s.task.task}: ${s.task.slurm}` : '';
    const line = `${String(s.request.index).padStart(3)}  ${s.request.name.padEnd(width)}  ${s.state.padEnd(13)}  ${where}`;
    return s.logTail ? [line, ...s.logTail.split('\n').map((l) => `       | ${l}`)] : [line];
  });
}

function counts(statuses: readonly RequestStatus[]): string {
  const by = new Map<string, number>();
  for (const s of statuses) by.set(s.state, (by.get(s.state) ?? 0) + 1);
  return [...by].map(([state, n]) => `${n} ${state}`).join(', ');
}

/** The sweep file read and expanded, and each request's state (the run store, then its Slurm task). */
async function statusesOf(file: string): Promise<{ spec: Sweep; statuses: RequestStatus[] }> {
  const spec = readSweepFile(file);
  return { spec, statuses: await sweepStatus(spec, expandSweep(spec)) };
}

/** A request's state as JSON (`plan --json` and `status --json` print the same rows). */
function jsonRow(s: RequestStatus) {
  return { index: s.request.index, name: s.request.name, arm: s.request.arm.name, point: s.request.point, seed: s.request.seed, state: s.state, run: s.run?.id ?? null, task: s.task ?? null, logTail: s.logTail ?? null };
}

export function sweepCommand(): Command {
  const sweep = new Command('sweep').description('plan, run and follow a sweep file (JSON or YAML): a grid of runs, trained here or on a Slurm cluster');

  sweep
    .command('plan')
    .description('expand the sweep into run requests, mark those already finished in the run store, and print what would be trained')
    .argument('<file>', 'the sweep file')
    .option('--json', 'print the plan as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const { spec, statuses } = await statusesOf(file);
      const todo = statuses.filter((s) => s.state !== 'finished');
      if (options.json) {
        process.stdout.write(JSON.stringify({ sweep: spec.name, metric: spec.metric, runs: statuses.map(jsonRow), toTrain: todo.length }, null, 2) + '\n');
        return;
      }
      process.stdout.write(`sweep ${spec.name} (${spec.file}), judged by ${spec.metric}: ${statuses.length} runs, ${counts(statuses)}\n`);
      for (const line of statusLines(statuses)) process.stdout.write(line + '\n');
      process.stdout.write(todo.length === 0 ? 'nothing to train\n' : `${todo.length} to train\n`);
    });

  sweep
    .command('run')
    .description('train the runs that are not finished, here (local) or as one Slurm job array (slurm)')
    .argument('<file>', 'the sweep file')
    .addOption(new Option('--executor <executor>', 'where the runs train').choices(['local', 'slurm']).default('local'))
    .option('--processes <n>', 'local: training processes at once (default: the cores)')
    .option('--resubmit-failed', 'slurm: submit only the requests whose task failed')
    .option('--partition <name>', 'slurm: the partition (overrides the sweep file)')
    .option('--time <limit>', 'slurm: the time limit of each task, e.g. 04:00:00')
    .option('--cpus <n>', 'slurm: CPUs per task (the data-parallel workers of train.workers auto)')
    .option('--gpus <n>', 'slurm: GPUs per task')
    .option('--mem <size>', 'slurm: memory per task, e.g. 32G')
    .option('--max-parallel <n>', 'slurm: array tasks running at once')
    .option('--sbatch <option...>', 'slurm: further sbatch options, e.g. --sbatch=--account=lab', [])
    .option('--report', 'slurm: then a `captioning report` job that starts when every task succeeded (--dependency=afterok)')
    .action(async (file: string, options: Record<string, string | boolean | string[] | undefined>) => {
      const spec = readSweepFile(file);
      const requests = expandSweep(spec);
      if (options.executor === 'local') {
        if (options.resubmitFailed || options.report) throw new Error('--resubmit-failed and --report are for --executor slurm');
        const runs = await runLocal(requests, { ...(options.processes ? { processes: positiveInteger('--processes', String(options.processes)) } : {}) });
        process.stdout.write(`sweep ${spec.name}: ${runs.length} runs finished\n`);
        return;
      }
      const slurm: Partial<SlurmSettings> = {
        ...(options.partition ? { partition: String(options.partition) } : {}),
        ...(options.time ? { time: String(options.time) } : {}),
        ...(options.cpus ? { cpusPerTask: positiveInteger('--cpus', String(options.cpus)) } : {}),
        ...(options.gpus ? { gpus: positiveInteger('--gpus', String(options.gpus)) } : {}),
        ...(options.mem ? { mem: String(options.mem) } : {}),
        ...(options.maxParallel ? { maxParallel: positiveInteger('--max-parallel', String(options.maxParallel)) } : {}),
        extra: options.sbatch as string[],
      };
      const statuses = await sweepStatus(spec, requests);
      const submission = await runSlurm(spec, statuses, { resubmitFailed: Boolean(options.resubmitFailed), slurm, report: Boolean(options.report) });
      if (!submission) {
        process.stdout.write(`sweep ${spec.name}: nothing to submit (${counts(statuses)})\n`);
        return;
      }
      process.stdout.write(`sweep ${spec.name}: submitted job ${submission.jobId}, ${submission.indices.length} array tasks (requests ${submission.indices.join(', ')})${submission.reportJobId ? `; report job ${submission.reportJobId} after it` : ''}\n`);
    });

  sweep
    .command('status')
    .description('per request: finished (its run), running or pending (job and task), failed (with the end of its log), or not submitted')
    .argument('<file>', 'the sweep file')
    .option('--json', 'print the states as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const { spec, statuses } = await statusesOf(file);
      if (options.json) {
        process.stdout.write(JSON.stringify({ sweep: spec.name, runs: statuses.map(jsonRow) }, null, 2) + '\n');
        return;
      }
      process.stdout.write(`sweep ${spec.name}: ${counts(statuses)}\n`);
      for (const line of statusLines(statuses)) process.stdout.write(line + '\n');
    });

  return sweep;
}
