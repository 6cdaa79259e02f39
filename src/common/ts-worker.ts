/**
 * Worker threads that run the project's TypeScript: the source a `new Worker(source, { eval:
 * true })` starts with, registering tsx's loader before it requires the entry module (the
 * data-parallel trainer, the feature reader, the bootstrap threads).
 *
 *   new Worker(tsWorkerSource(path.join(__dirname, 'my-worker.ts')), { eval: true, workerData });
 */

/** The eval source of a worker whose entry is the TypeScript module `entry` (an absolute path). */
export function tsWorkerSource(entry: string): string {
  return `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(entry)});`;
}
