/**
 * The worker side of FeatureReadWorker (feature-reader.ts): reads cache entries, checks and
 * decodes them and pools them to the served grid, off the main thread, so that on a machine
 * with a core to spare the next batch is ready when a training step (which holds the main
 * thread) ends. Loads no tfjs: only feature-entry.ts and fs.
 *
 * Message in: ReadRequest; out: ReadReply, the batch [n, P, D] transferred (not copied).
 */
import * as fs from 'fs';
import { parentPort } from 'worker_threads';

import { adaptiveAveragePool, decodeFeatureEntry, type EntryLayout } from './feature-entry';

export interface ReadRequest {
  id: number;
  entries: { key: string; file: string }[];
  layout: EntryLayout;
  /** The grid served [G_h, G_w] (pooled from layout.layerGrid). */
  grid: [number, number];
}

export type ReadReply =
  | { id: number; data: Float32Array; filesRead: number }
  /** `missing`: the index (in entries) of an image with no entry; else `error` says what failed. */
  | { id: number; missing: number; filesRead: number }
  | { id: number; error: string; filesRead: number };

/** Reads one batch; what the worker runs for each request (exported for a test in the main thread). */
export function readBatch(request: ReadRequest): ReadReply {
  const { layout, grid } = request;
  const size = grid[0] * grid[1] * layout.featureDim;
  const out = new Float32Array(request.entries.length * size);
  let filesRead = 0;
  for (let k = 0; k < request.entries.length; k++) {
    const { key, file } = request.entries[k];
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { id: request.id, missing: k, filesRead };
      return { id: request.id, error: `feature cache file ${file}: ${(error as Error).message}`, filesRead };
    }
    filesRead += 1;
    let native: Float32Array | undefined;
    try {
      native = decodeFeatureEntry(key, file, bytes, layout);
    } catch (error) {
      return { id: request.id, error: (error as Error).message, filesRead };
    }
    if (!native) return { id: request.id, missing: k, filesRead };
    out.set(adaptiveAveragePool(native, [...layout.layerGrid, layout.featureDim], grid), k * size);
  }
  return { id: request.id, data: out, filesRead };
}

parentPort?.on('message', (request: ReadRequest) => {
  const reply = readBatch(request);
  parentPort!.postMessage(reply, 'data' in reply ? [reply.data.buffer] : []);
});
