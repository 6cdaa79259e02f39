/**
 * Sweeps (issue #17): a sweep file read and checked (sweep-file.ts), expanded into run
 * requests (expand.ts), trained here or as a Slurm job array and followed (executors.ts,
 * slurm.ts, submissions.ts).
 */
export { expandSweep, type ConfigMaker, type SweepRequest } from './expand';
export { runLocal, runSlurm, sweepStatus, type RequestState, type RequestStatus } from './executors';
export { arrayTasks, cancel, type TaskInfo, type TaskState } from './slurm';
export { SweepFolder, type Submission } from './submissions';
export { checkSweep, readSweepFile, SweepFileError, type ArmSeeds, type SlurmSettings, type Sweep, type SweepArm } from './sweep-file';
