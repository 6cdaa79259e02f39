/**
 * Where a sweep's runs train, and what became of them.
 *
 *   sweepStatus(sweep, requests)   per request: finished (its run), or, for those sent to Slurm,
 *                                  running / pending (job and task), failed (with the task's log
 *                                  tail), else not submitted
 *   runLocal(requests)             the unfinished ones through `trainRuns` on this machine
 *                                  (parallel processes, cores shared with their data-parallel workers)
 *   runSlurm(sweep, requests)      the unfinished ones not queued or running as one job array
 *                                  (`--resubmit-failed`: only those that failed)
 *
 * Both executors train each request with `captioning train --request` into the same run
 * store, so they end with the same runs; the run store's lock keeps two processes from
 * training one run, and a run a killed task left is resumed by the next.
 */
import { writeFileAtomic } from '../common/atomic-write';
import { resultsRoot, type Run } from '../tracking';
import { findFinishedRuns, type RunRequest, trainRuns } from '../train/parallel';
import type { SweepRequest } from './expand';
import { arrayTasks, batchScript, submit, submitCommand, type TaskInfo } from './slurm';
import { type Submission, SweepFolder, tail } from './submissions';
import type { SlurmSettings, Sweep } from './sweep-file';

export type RequestState = 'finished' | 'running' | 'pending' | 'failed' | 'not submitted';

export interface RequestStatus {
  request: SweepRequest;
  state: RequestState;
  run?: Run;
  /** The Slurm task of its latest submission, if any. */
  task?: { jobId: string; task: number; slurm: string };
  /** The last lines of a failed task's output. */
  logTail?: string;
}

/** Each request's state: the run store first, then its latest Slurm task. */
export async function sweepStatus(sweep: Sweep, requests: readonly SweepRequest[], options: { root?: string; log?: (line: string) => void } = {}): Promise<RequestStatus[]> {
  const runs = await findFinishedRuns(requests as readonly RunRequest[], options.log);
  const folder = new SweepFolder(sweep.name, options.root);
  const submissions = folder.submissions();
  const jobs = new Map<string, Map<number, TaskInfo>>();
  return requests.map((request, k): RequestStatus => {
    const run = runs[k];
    if (run) return { request, state: 'finished', run };
    // Its latest submission, found by name (by index in submissions recorded without names).
    const taskOf = (s: Submission) => (s.names ? s.names.indexOf(request.name) : s.indices.indexOf(request.index));
    const submission = [...submissions].reverse().find((s) => taskOf(s) >= 0);
    if (!submission) return { request, state: 'not submitted' };
    const task = taskOf(submission);
    if (!jobs.has(submission.jobId)) jobs.set(submission.jobId, arrayTasks(submission.jobId));
    const info = jobs.get(submission.jobId)!.get(task) ?? { state: 'unknown', slurm: 'not known to squeue or sacct' };
    const where = { jobId: submission.jobId, task, slurm: info.slurm };
    if (info.state === 'pending' || info.state === 'running') return { request, state: info.state, task: where };
    // Ended without a finished run (failed, cancelled, timed out), or forgotten by Slurm: failed.
    return { request, state: 'failed', task: where, logTail: tail(folder.logOf(submission.jobId, task)) };
  });
}

/** Trains the requests without a finished run on this machine; every request's run, in order. */
export async function runLocal(requests: readonly SweepRequest[], options: { processes?: number; log?: (line: string) => void } = {}): Promise<Run[]> {
  return trainRuns(requests, { ...(options.processes ? { processes: options.processes } : {}), ...(options.log ? { log: options.log } : {}) });
}

/**
 * Submits one job array for the requests that need one: not finished and neither pending nor
 * running in an earlier submission (`resubmitFailed`: only those whose task failed). Null when
 * there is nothing to submit. `report`: a `captioning report` job after the array succeeds.
 */
export async function runSlurm(
  sweep: Sweep,
  statuses: readonly RequestStatus[],
  options: { resubmitFailed?: boolean; slurm?: Partial<SlurmSettings>; report?: boolean; root?: string } = {},
): Promise<Submission | null> {
  const wanted = statuses.filter((s) => (options.resubmitFailed ? s.state === 'failed' : s.state === 'failed' || s.state === 'not submitted')).map((s) => s.request);
  if (wanted.length === 0) return null;
  const folder = new SweepFolder(sweep.name, options.root);
  await folder.writeRequests(wanted);
  const indices = wanted.map((r) => r.index);
  const { tasksFile, scriptFile } = await folder.newSubmission(indices);
  const slurm: SlurmSettings = { ...sweep.slurm, ...options.slurm, extra: [...sweep.slurm.extra, ...(options.slurm?.extra ?? [])] };
  const script = batchScript({ jobName: sweep.name, tasks: indices.length, tasksFile, requestsFolder: folder.requests, logsFolder: folder.logs, resultsRoot: resultsRoot(options.root), slurm });
  await writeFileAtomic(scriptFile, script);
  const jobId = submit(scriptFile);
  const submission: Submission = { jobId, submittedAt: new Date().toISOString(), indices, names: wanted.map((r) => r.name) };
  if (options.report) {
    submission.reportJobId = submitCommand(`"${process.execPath}" bin/captioning.js report`, { jobName: `${sweep.name}-report`, output: folder.reportLogOf(jobId), dependency: `afterok:${jobId}` });
  }
  await folder.record(submission);
  return submission;
}
