/**
 * What a sweep has sent to Slurm, kept beside the run store so that any login node sharing
 * the filesystem sees it: `<results>/sweeps/<name>/`
 *
 *   requests/<index>.json        each request as `captioning train --request` reads it
 *   tasks-<stamp>.txt            one submission's request indices, array task i on line i + 1
 *   job-<stamp>.sh               its batch script
 *   logs/<job>_<task>.out        each task's output
 *   submissions.json             every submission: job id, time, request indices (written atomically)
 */
import * as fs from 'fs';
import * as path from 'path';

import { writeFileAtomic } from '../common/atomic-write';
import { resultsRoot } from '../tracking';
import type { RunRequestFile } from '../train/parallel';
import type { SweepRequest } from './expand';

export interface Submission {
  jobId: string;
  submittedAt: string;
  /** Array task i trains request indices[i]. */
  indices: number[];
  /** Their run names (task i: names[i]): how `status` finds a request's task after the file was edited (indices may shift, names do not). */
  names?: string[];
  /** A job that runs after the array succeeds (`--report`), if any. */
  reportJobId?: string;
}

interface SubmissionsFile {
  schema: 'captioning-lab/sweep-submissions@1';
  sweep: string;
  submissions: Submission[];
}

/** The folders and files of a sweep's Slurm state. */
export class SweepFolder {
  readonly dir: string;

  constructor(
    readonly sweep: string,
    root?: string,
  ) {
    this.dir = path.join(resultsRoot(root), 'sweeps', sweep);
  }

  get requests(): string {
    return path.join(this.dir, 'requests');
  }

  get logs(): string {
    return path.join(this.dir, 'logs');
  }

  logOf(jobId: string, task: number): string {
    return path.join(this.logs, `${jobId}_${task}.out`);
  }

  reportLogOf(jobId: string): string {
    return path.join(this.logs, `${jobId}_report.out`);
  }

  /** Every submission so far, oldest first (none: []); a damaged file is an error naming it. */
  submissions(): Submission[] {
    const file = path.join(this.dir, 'submissions.json');
    if (!fs.existsSync(file)) return [];
    let value: SubmissionsFile;
    try {
      value = JSON.parse(fs.readFileSync(file, 'utf8')) as SubmissionsFile;
    } catch (error) {
      throw new Error(`${file}: not valid JSON (${(error as Error).message}); move it away to forget this sweep's submissions`);
    }
    if (value.schema !== 'captioning-lab/sweep-submissions@1' || !Array.isArray(value.submissions)) throw new Error(`${file}: field "schema" should be "captioning-lab/sweep-submissions@1" with a list "submissions"`);
    return value.submissions;
  }

  /** Writes the request files the tasks read (their content is the request; rewritten each time). */
  async writeRequests(requests: readonly SweepRequest[]): Promise<void> {
    await fs.promises.mkdir(this.requests, { recursive: true });
    await fs.promises.mkdir(this.logs, { recursive: true });
    for (const r of requests) {
      const body: RunRequestFile = { schema: 'captioning-lab/run-request@1', name: r.name, config: r.config };
      await writeFileAtomic(path.join(this.requests, `${r.index}.json`), JSON.stringify(body, null, 2) + '\n');
    }
  }

  /** A new submission's task list and script paths (stamped so none is overwritten). */
  async newSubmission(indices: readonly number[]): Promise<{ tasksFile: string; scriptFile: string }> {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const tasksFile = path.join(this.dir, `tasks-${stamp}.txt`);
    await writeFileAtomic(tasksFile, indices.join('\n') + '\n');
    return { tasksFile, scriptFile: path.join(this.dir, `job-${stamp}.sh`) };
  }

  async record(submission: Submission): Promise<void> {
    const body: SubmissionsFile = { schema: 'captioning-lab/sweep-submissions@1', sweep: this.sweep, submissions: [...this.submissions(), submission] };
    await writeFileAtomic(path.join(this.dir, 'submissions.json'), JSON.stringify(body, null, 2) + '\n');
  }
}

/** The last lines of a file ('' where it does not exist). */
export function tail(file: string, lines = 10): string {
  if (!fs.existsSync(file)) return '';
  return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
