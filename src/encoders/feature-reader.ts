/**
 * A worker thread that reads feature-cache batches (feature-read-worker.ts), so that reading,
 * decoding float16 and pooling run beside a training step instead of between two steps.
 * The worker holds the event loop only while a read is in flight, and is started from the
 * TypeScript source through tsx (the project has no build step).
 *
 *   const reader = new FeatureReadWorker();
 *   const batch = await reader.read({ entries, layout, grid });   // [n, P, D]
 *   await reader.close();
 */
import * as path from 'path';
import { Worker } from 'worker_threads';

import { tsWorkerSource } from '../common/ts-worker';
import type { ReadReply, ReadRequest } from './feature-read-worker';

/** A read that found no entry for `index` (into the request's entries). */
export class MissingEntryError extends Error {
  constructor(readonly index: number) {
    super(`feature cache: no entry for image ${index} of the batch`);
    this.name = 'MissingEntryError';
  }
}

export class FeatureReadWorker {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (reply: ReadReply) => void; reject: (error: Error) => void }>();

  constructor() {
    this.worker = new Worker(tsWorkerSource(path.join(__dirname, 'feature-read-worker.ts')), { eval: true });
    this.worker.unref();
    this.worker.on('message', (reply: ReadReply) => {
      const entry = this.waiting.get(reply.id);
      if (!entry) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) this.worker.unref();
      entry.resolve(reply);
    });
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', (code) => this.failAll(new Error(`feature read worker exited with code ${code}`)));
  }

  private failAll(error: Error): void {
    for (const { reject } of this.waiting.values()) reject(error);
    this.waiting.clear();
  }

  /**
   * The batch [n, P, D] and the files read for it; MissingEntryError when an image has no
   * entry, an Error naming the file when one is damaged.
   */
  read(request: Omit<ReadRequest, 'id'>): Promise<{ data: Float32Array; filesRead: number }> {
    const id = this.nextId++;
    return new Promise<ReadReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.ref(); // a read in flight keeps the process alive
      this.worker.postMessage({ id, ...request });
    }).then((reply) => {
      if ('data' in reply) return { data: reply.data, filesRead: reply.filesRead };
      if ('missing' in reply) throw new MissingEntryError(reply.missing);
      throw new Error(reply.error);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
