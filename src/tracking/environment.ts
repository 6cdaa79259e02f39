/**
 * environment.json of a run: where and with what it was trained. Git commit and dirty flag
 * (via `git`, 'unknown' where git or the repository is absent), the versions of the packages
 * that decide results, the tfjs backend choice (compute/backend.ts), the seed, the machine.
 */
import { execFileSync } from 'child_process';
import * as os from 'os';

import type { BackendChoice } from '../compute/backend';
import { installedVersion } from '../compute/environment';
import { PROJECT_ROOT } from '../common/project';

export interface GitState {
  commit: string;
  dirty: boolean | 'unknown';
}

export interface RunEnvironment {
  schema: 'captioning-lab/environment@1';
  recordedAt: string;
  git: GitState;
  packages: Record<string, string>;
  backend: BackendChoice;
  seed: number;
  node: string;
  platform: string;
  hostname: string;
  cpus: { model: string; count: number };
  memoryGiB: number;
  pid: number;
  argv: string[];
  /** How the attempt ran, as its job says (e.g. data-parallel workers); absent when the job says nothing. */
  execution?: Record<string, string | number | boolean>;
  /** The batch scheduler's job that ran the attempt (a sweep's array task); absent outside one. */
  scheduler?: SchedulerJob;
}

/** A Slurm job (or array task) as its environment variables name it. */
export interface SchedulerJob {
  kind: 'slurm';
  jobId: string;
  arrayJobId?: string;
  arrayTaskId?: number;
  cluster?: string;
  nodes?: string;
}

/** The Slurm job this process runs in (SLURM_JOB_ID and its companions), or undefined. */
export function schedulerJob(env: NodeJS.ProcessEnv = process.env): SchedulerJob | undefined {
  const jobId = env.SLURM_JOB_ID;
  if (!jobId) return undefined;
  return {
    kind: 'slurm',
    jobId,
    ...(env.SLURM_ARRAY_JOB_ID ? { arrayJobId: env.SLURM_ARRAY_JOB_ID } : {}),
    ...(env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_ID !== '' ? { arrayTaskId: Number(env.SLURM_ARRAY_TASK_ID) } : {}),
    ...(env.SLURM_CLUSTER_NAME ? { cluster: env.SLURM_CLUSTER_NAME } : {}),
    ...(env.SLURM_JOB_NODELIST ? { nodes: env.SLURM_JOB_NODELIST } : {}),
  };
}

/** Packages whose versions decide results, recorded with every run. */
export const RUN_PACKAGES = [
  'captioning-lab',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'danfojs-node',
  'plotly.js-dist-min',
];

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return undefined;
  }
}

/** The project's git commit and whether the work tree differs from it; 'unknown' without git. */
export function gitState(cwd = PROJECT_ROOT): GitState {
  const commit = git(['rev-parse', 'HEAD'], cwd);
  if (!commit) return { commit: 'unknown', dirty: 'unknown' };
  const status = git(['status', '--porcelain', '--untracked-files=no'], cwd);
  return { commit, dirty: status === undefined ? 'unknown' : status.length > 0 };
}

/** Collects the environment record of a run attempt. */
export function runEnvironment(backend: BackendChoice, seed: number, execution?: Record<string, string | number | boolean>): RunEnvironment {
  const cpus = os.cpus();
  return {
    schema: 'captioning-lab/environment@1',
    recordedAt: new Date().toISOString(),
    git: gitState(),
    packages: Object.fromEntries(RUN_PACKAGES.map((name) => [name, installedVersion(name)])),
    backend,
    seed,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    hostname: os.hostname(),
    cpus: { model: cpus[0]?.model.trim() ?? 'unknown', count: cpus.length },
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    pid: process.pid,
    argv: process.argv.slice(1),
    ...(execution ? { execution } : {}),
    ...(schedulerJob() ? { scheduler: schedulerJob() } : {}),
  };
}
