/**
 * The Slurm side of a sweep: the batch script of a job array, its submission with `sbatch`,
 * and the state of its tasks from `squeue` (or `sacct`, where accounting exists, once squeue
 * has forgotten them). Each array task runs `captioning train --request` for one request
 * into the shared run store, so a task that dies leaves a run that the next one resumes.
 *
 *   sbatch --array=0-(N-1)%K script.sh     # task i trains the request on line i + 1 of tasks.txt
 */
import { execFileSync } from 'child_process';
import * as path from 'path';

import { PROJECT_ROOT } from '../common/project';
import type { SlurmSettings } from './sweep-file';

/** What becomes of an array task, in the terms `sweep status` uses. */
export type TaskState = 'pending' | 'running' | 'completed' | 'failed' | 'unknown';

export interface TaskInfo {
  state: TaskState;
  /** Slurm's own word (PENDING, RUNNING, CANCELLED, FAILED, TIMEOUT, …) and its reason or exit code where given. */
  slurm: string;
}

/** The batch script of a job array: task i trains the request listed on line i + 1 of `tasksFile`. */
export function batchScript(options: {
  jobName: string;
  tasks: number;
  tasksFile: string;
  requestsFolder: string;
  logsFolder: string;
  resultsRoot: string;
  slurm: SlurmSettings;
  node?: string;
}): string {
  const { slurm } = options;
  const directives = [
    `--job-name=${options.jobName}`,
    `--array=0-${options.tasks - 1}${slurm.maxParallel ? `%${slurm.maxParallel}` : ''}`,
    `--output=${path.join(options.logsFolder, '%A_%a.out')}`,
    `--chdir=${PROJECT_ROOT}`,
    `--cpus-per-task=${slurm.cpusPerTask ?? 1}`,
    ...(slurm.partition ? [`--partition=${slurm.partition}`] : []),
    ...(slurm.time ? [`--time=${slurm.time}`] : []),
    ...(slurm.gpus ? [`--gpus=${slurm.gpus}`] : []),
    ...(slurm.mem ? [`--mem=${slurm.mem}`] : []),
    ...slurm.extra,
  ];
  const node = options.node ?? process.execPath;
  return [
    '#!/bin/bash',
    ...directives.map((d) => `#SBATCH ${d}`),
    '# Written by `captioning sweep run --executor slurm`: one array task per run request.',
    'set -euo pipefail',
    `index=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" ${quote(options.tasksFile)})`,
    'export CAPTIONING_WORKERS="${SLURM_CPUS_PER_TASK:-1}"  # the data-parallel workers of train.workers auto: the cores Slurm gave the task',
    `export CAPTIONING_RESULTS=${quote(options.resultsRoot)}  # the shared run store`,
    `echo "task $SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID on $(hostname): request $index"`,
    `exec "\${CAPTIONING_NODE:-${node}}" ${quote(path.join(PROJECT_ROOT, 'bin', 'captioning.js'))} train --request ${quote(options.requestsFolder)}/"$index".json`,
    '',
  ].join('\n');
}

/** Submits a batch script; the job id. `dependency`: e.g. `afterok:123`. */
export function submit(script: string, options: { dependency?: string } = {}): string {
  const args = ['--parsable', ...(options.dependency ? [`--dependency=${options.dependency}`] : []), script];
  const out = slurmCommand('sbatch', args);
  const id = out.trim().split(';')[0]; // "id" or "id;cluster"
  if (!/^\d+$/.test(id)) throw new Error(`sbatch ${args.join(' ')}: expected a job id, got ${JSON.stringify(out.trim())}`);
  return id;
}

/** Submits one command as a job (a report after the sweep's array: `afterok:<id>`). */
export function submitCommand(command: string, options: { jobName: string; output: string; dependency?: string }): string {
  const args = ['--parsable', `--job-name=${options.jobName}`, `--output=${options.output}`, `--chdir=${PROJECT_ROOT}`, ...(options.dependency ? [`--dependency=${options.dependency}`] : []), `--wrap=${command}`];
  const id = slurmCommand('sbatch', args).trim().split(';')[0];
  if (!/^\d+$/.test(id)) throw new Error(`sbatch: expected a job id, got ${JSON.stringify(id)}`);
  return id;
}

/** The state of every task Slurm still knows of an array job, by task index: squeue first, then sacct. */
export function arrayTasks(jobId: string): Map<number, TaskInfo> {
  const tasks = new Map<number, TaskInfo>();
  // squeue -r: one line per array task, pending ones too; -t all: finished ones while the controller keeps them (MinJobAge).
  const queued = trySlurmCommand('squeue', ['-h', '-r', '-t', 'all', '-j', jobId, '-o', '%i|%T|%r']);
  for (const line of queued?.split('\n') ?? []) {
    const [id, state, reason] = line.trim().split('|');
    const task = taskIndex(id, jobId);
    if (task !== undefined) tasks.set(task, { state: stateOf(state), slurm: reason && reason !== 'None' ? `${state} (${reason})` : state });
  }
  if (tasks.size > 0) return tasks;
  const accounted = trySlurmCommand('sacct', ['-n', '-P', '-X', '-j', jobId, '-o', 'JobID,State,ExitCode']);
  for (const line of accounted?.split('\n') ?? []) {
    const [id, state, exit] = line.trim().split('|');
    const task = taskIndex(id, jobId);
    if (task !== undefined) tasks.set(task, { state: stateOf(state.split(' ')[0]), slurm: `${state} (exit ${exit})` });
  }
  return tasks;
}

/** Cancels one task of an array job (or the whole job). */
export function cancel(jobId: string, task?: number): void {
  slurmCommand('scancel', [task === undefined ? jobId : `${jobId}_${task}`]);
}

/** "123_4" of job 123 -> 4; undefined for another job or a compressed range ("123_[5-9]"). */
function taskIndex(id: string | undefined, jobId: string): number | undefined {
  const match = /^(\d+)_(\d+)$/.exec(id ?? '');
  return match && match[1] === jobId ? Number(match[2]) : undefined;
}

function stateOf(slurm: string): TaskState {
  if (['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'RESV_DEL_HOLD', 'SUSPENDED'].includes(slurm)) return 'pending';
  if (['RUNNING', 'CONFIGURING', 'COMPLETING', 'STAGE_OUT', 'RESIZING', 'SIGNALING'].includes(slurm)) return 'running';
  if (slurm === 'COMPLETED') return 'completed';
  if (['FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'SPECIAL_EXIT', 'REVOKED'].includes(slurm)) return 'failed';
  return 'unknown';
}

function slurmCommand(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${command} is not installed here: the slurm executor runs where Slurm's client commands are (a login node), with SLURM_CONF set where needed`);
    throw new Error(`${command} ${args.join(' ')} failed: ${(e.stderr ?? e.message).toString().trim()}`);
  }
}

/** The command's output, or undefined where it fails (sacct without accounting, squeue for a job it forgot). */
function trySlurmCommand(command: string, args: string[]): string | undefined {
  try {
    return slurmCommand(command, args);
  } catch {
    return undefined;
  }
}

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
