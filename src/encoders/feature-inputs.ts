/**
 * Cached feature grids as the trainer's and decoders' image inputs: all in memory (the
 * scenes), or read from the disk cache per batch with the next batch prefetched (COCO: 123k
 * grids do not fit).
 *
 *   const inputs = await loadFeatureInputs(cache, imageIndices);   // in memory, [P, D] per image
 *   const disk = new DiskFeatureInputs(cache);
 *   disk.prefetch(nextImages);        // starts reading the next batch while this step runs
 *   await disk.read(nextImages);      // served from the prefetch: no second read from disk
 *   disk.stats;                       // batches read, prefetched, served from a prefetch
 *
 * Grids come pooled to the encoder's grid (FeatureCache.read). The disk reader reads, decodes
 * and pools in a worker thread (feature-reader.ts), so that the next batch is prepared on
 * another core while a training step holds the main thread (`worker: false`: fs.promises
 * reads, decoding and pooling on the main thread). It holds at most two batches: the one
 * being read and one prefetched.
 */
import type { ImageInputs } from './inputs';
import { MemoryInputs } from './inputs';
import type { FeatureCache } from './feature-cache';
import { FeatureReadWorker, MissingEntryError } from './feature-reader';

function missing(cache: FeatureCache, i: number): Error {
  return new Error(`feature cache: no features for ${cache.dataset.images[i]?.file ?? `image ${i}`} (key ${JSON.stringify(cache.keyOf(i))}) in ${cache.entries}; run extractFeatures first`);
}

/** Cached grids of some dataset images (indices into cache.dataset.images), loaded into memory. */
export async function loadFeatureInputs(cache: FeatureCache, images: readonly number[]): Promise<MemoryInputs> {
  const byImage = new Map<number, Float32Array>();
  for (const i of images) {
    const grid = cache.read(cache.keyOf(i));
    if (!grid) throw missing(cache, i);
    byImage.set(i, grid);
  }
  return new MemoryInputs('features', cache.shape, byImage);
}

export interface DiskInputStats {
  /** Batches asked for with read, batches prefetched, and reads served by a prefetch. */
  batches: number;
  prefetched: number;
  prefetchHits: number;
}

function sameImages(a: Int32Array, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** Cached grids read from disk per batch, asynchronously, with one batch prefetched. */
export class DiskFeatureInputs implements ImageInputs {
  readonly kind = 'features' as const;
  readonly shape: readonly number[];
  private readonly counts: DiskInputStats = { batches: 0, prefetched: 0, prefetchHits: 0 };
  /** The one batch read ahead (the next step's), until a read takes it or a prefetch replaces it. */
  private pending: { images: Int32Array; batch: Promise<Float32Array> } | null = null;

  private readonly reader: FeatureReadWorker | null;

  constructor(
    private readonly cache: FeatureCache,
    options: { worker?: boolean } = {},
  ) {
    this.shape = cache.shape;
    this.reader = options.worker === false ? null : new FeatureReadWorker();
  }

  /** Stops the reading worker (an idle one does not keep the process alive either way). */
  async close(): Promise<void> {
    await this.reader?.close();
  }

  get stats(): DiskInputStats {
    return { ...this.counts };
  }

  /** Starts reading a batch the caller will read next (a no-op when it is the batch already prefetched). */
  prefetch(images: ArrayLike<number>): void {
    if (this.pending && sameImages(this.pending.images, images)) return;
    const batch = this.load(images);
    batch.catch(() => {}); // the read that takes it reports the error
    this.pending = { images: Int32Array.from(images), batch };
    this.counts.prefetched += 1;
  }

  /** The grids of some images [n, P, D], from the prefetch when it holds exactly these images. */
  read(images: ArrayLike<number>): Promise<Float32Array> {
    this.counts.batches += 1;
    const pending = this.pending;
    if (pending && sameImages(pending.images, images)) {
      this.pending = null;
      this.counts.prefetchHits += 1;
      return pending.batch;
    }
    return this.load(images);
  }

  private async load(images: ArrayLike<number>): Promise<Float32Array> {
    if (this.reader) return this.loadInWorker(this.reader, images);
    const n = this.shape[0] * this.shape[1];
    const out = new Float32Array(images.length * n);
    await Promise.all(
      Array.from(images, async (i, k) => {
        const grid = await this.cache.readAsync(this.cache.keyOf(i));
        if (!grid) throw missing(this.cache, i);
        out.set(grid, k * n);
      }),
    );
    return out;
  }

  private async loadInWorker(reader: FeatureReadWorker, images: ArrayLike<number>): Promise<Float32Array> {
    const entries = Array.from(images, (i) => {
      const key = this.cache.keyOf(i);
      return { key, file: this.cache.fileOf(key) };
    });
    try {
      const { data, filesRead } = await reader.read({ entries, layout: this.cache.layout, grid: this.cache.encoder.grid });
      this.cache.diskReads += filesRead;
      return data;
    } catch (error) {
      if (error instanceof MissingEntryError) throw missing(this.cache, images[error.index]);
      throw error;
    }
  }
}
