/**
 * The run store's errors. Each names the run folder or file it is about, so that a damaged
 * or busy run can be found and fixed by hand.
 */

/** A run folder whose files cannot be trusted: unparseable JSON, a truncated line, a missing file. */
export class DamagedRunError extends Error {
  override name = 'DamagedRunError';
  constructor(
    /** The file (or folder) at fault. */
    readonly file: string,
    message: string,
  ) {
    super(`damaged run file ${file}: ${message}`);
  }
}

/** Another live process is training the run. */
export class RunBusyError extends Error {
  override name = 'RunBusyError';
  constructor(
    readonly runId: string,
    readonly owner: { pid: number; hostname: string; startedAt: string },
    readonly lockFile: string,
  ) {
    super(
      `run ${runId} is being trained by pid ${owner.pid} on ${owner.hostname} since ${owner.startedAt} ` +
        `(lock ${lockFile}); wait for it, or stop that process`,
    );
  }
}

/** Training stopped on an interrupt (SIGINT); rerunning resumes from the last checkpoint. */
export class RunInterruptedError extends Error {
  override name = 'RunInterruptedError';
  constructor(
    readonly runId: string,
    readonly epochsCompleted: number,
    readonly dir: string,
  ) {
    super(`run ${runId} was interrupted after ${epochsCompleted} epoch(s); rerun to resume from its last checkpoint (${dir})`);
  }
}

/** The job threw: the run is marked failed with the error, and rerunning retries. */
export class RunFailedError extends Error {
  override name = 'RunFailedError';
  constructor(
    readonly runId: string,
    readonly dir: string,
    readonly failure: unknown,
    where: string,
  ) {
    const message = failure instanceof Error ? failure.message : String(failure);
    super(`run ${runId} failed ${where}: ${message} (recorded in ${dir}/status.json; rerun to retry)`);
  }
}
