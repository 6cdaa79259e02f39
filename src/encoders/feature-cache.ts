/**
 * Frozen encoders' feature grids, computed once per image and cached on disk.
 *
 *   const cache = new FeatureCache('results/cache/features', encoder, { dtype: 'float16' });
 *   const report = await extractFeatures(encoder, cache, files, { batchSize: 16 });
 *   // "features: 320/1000 images, 7.9 images/s, ETA 1 min 26 s" at most every 30 s (a bar on a terminal); report.computed, report.cached
 *   const inputs = await loadFeatureInputs(cache, dataset, imageIndices);   // ImageInputs [P, D] per image
 *
 * Layout: `<dir>/<sha of encoder id>/encoder.json` (the encoder id, grid, feature size,
 * dtype) and one file per image `<2 hex>/<sha of the image key>.f16` (or `.f32`), raw
 * little-endian values of the [P, D] grid, row-major (P = G_h * G_w regions). The image
 * key is its absolute path, size and modification time (or, with `key: 'content'`, the
 * SHA-256 of its bytes), so an edited image is recomputed. Files are written atomically
 * (src/common/atomic-write.ts). Memory stays bounded: images go through the encoder
 * `batchSize` at a time and only the current batch is held.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { writeFileAtomic } from '../common/atomic-write';
import { type CaptionDataset, imagePath } from '../data/dataset';
import { loadImageBatch } from '../data/images';
import { type ProgressMode, phaseProgress } from '../common/progress';
import { decodeHalf, encodeHalf } from './float16';
import { type ImageInputs, MemoryInputs } from './inputs';
import { adaptiveAveragePool, type FrozenEncoder } from './pretrained';
import { toChannelOrder } from './preprocess';

export type CacheDtype = 'float16' | 'float32';

export interface FeatureCacheOptions {
  /** Stored precision (default float16). */
  dtype?: CacheDtype;
  /** How an image is recognised: path + size + mtime (default), or a hash of its bytes. */
  key?: 'stat' | 'content';
}

interface EncoderRecord {
  format: 'captioning-lab feature cache';
  version: 1;
  encoder: string;
  grid: [number, number];
  featureDim: number;
  dtype: CacheDtype;
}

function sha(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

export class FeatureCache {
  readonly folder: string;
  readonly dtype: CacheDtype;
  /** Regions P and feature size D of every cached grid. */
  readonly shape: [number, number];
  private readonly keyMode: 'stat' | 'content';
  private readonly extension: string;

  constructor(
    dir: string,
    readonly encoder: Pick<FrozenEncoder, 'id' | 'grid' | 'featureDim'>,
    options: FeatureCacheOptions = {},
  ) {
    this.dtype = options.dtype ?? 'float16';
    this.keyMode = options.key ?? 'stat';
    this.extension = this.dtype === 'float16' ? '.f16' : '.f32';
    this.folder = path.join(dir, sha(`${encoder.id}|${this.dtype}`).slice(0, 16));
    this.shape = [encoder.grid[0] * encoder.grid[1], encoder.featureDim];
  }

  /** Writes encoder.json once; a folder holding another encoder's features is an error. */
  async open(): Promise<void> {
    const file = path.join(this.folder, 'encoder.json');
    const record: EncoderRecord = { format: 'captioning-lab feature cache', version: 1, encoder: this.encoder.id, grid: this.encoder.grid, featureDim: this.encoder.featureDim, dtype: this.dtype };
    if (fs.existsSync(file)) {
      const existing = JSON.parse(fs.readFileSync(file, 'utf8')) as EncoderRecord;
      if (existing.encoder !== record.encoder || existing.dtype !== record.dtype) {
        throw new Error(`feature cache ${this.folder} holds features of ${existing.encoder} (${existing.dtype}), not ${record.encoder} (${record.dtype})`);
      }
      return;
    }
    await writeFileAtomic(file, JSON.stringify(record, null, 1) + '\n');
  }

  /** The cache file of an image. */
  fileOf(image: string): string {
    const abs = path.resolve(image);
    let key: string;
    if (this.keyMode === 'content') key = sha(fs.readFileSync(abs));
    else {
      const stat = fs.statSync(abs);
      key = sha(`${abs}|${stat.size}|${stat.mtimeMs}`);
    }
    return path.join(this.folder, key.slice(0, 2), key.slice(2, 34) + this.extension);
  }

  has(image: string): boolean {
    return fs.existsSync(this.fileOf(image));
  }

  /** The cached grid [P, D] of an image, or undefined. */
  read(image: string): Float32Array | undefined {
    const file = this.fileOf(image);
    if (!fs.existsSync(file)) return undefined;
    const bytes = fs.readFileSync(file);
    const n = this.shape[0] * this.shape[1];
    const expected = n * (this.dtype === 'float16' ? 2 : 4);
    if (bytes.length !== expected) throw new Error(`feature cache file ${file} has ${bytes.length} bytes, expected ${expected} ([${this.shape}] ${this.dtype}); delete it to recompute`);
    const copy = new Uint8Array(bytes).buffer; // aligned
    return this.dtype === 'float16' ? decodeHalf(new Uint16Array(copy)) : new Float32Array(copy);
  }

  /** Stores the grid [P, D] of an image, atomically. */
  async write(image: string, grid: Float32Array): Promise<void> {
    if (grid.length !== this.shape[0] * this.shape[1]) throw new Error(`feature cache: grid of ${grid.length} values, expected [${this.shape}]`);
    const data = this.dtype === 'float16' ? new Uint8Array(encodeHalf(grid).buffer) : new Uint8Array(grid.buffer, grid.byteOffset, grid.byteLength);
    await writeFileAtomic(this.fileOf(image), data);
  }
}

export interface ExtractOptions {
  /** Images through the encoder at a time (default 16). */
  batchSize?: number;
  /** Progress lines (default stderr; null: silent). */
  log?: ((line: string) => void) | null;
  /** Also a progress line every this many images (default: by time only, at most every 30 s; src/common/progress.ts). */
  progressEvery?: number;
  /** How progress shows (default auto: a bar on a terminal, the cell's display in a notebook, else lines). */
  progress?: ProgressMode;
}

export interface ExtractReport {
  images: number;
  /** Grids computed now, and found in the cache. */
  computed: number;
  cached: number;
  seconds: number;
}

/** Computes and caches the grids of the images not cached yet. */
export async function extractFeatures(encoder: FrozenEncoder, cache: FeatureCache, images: readonly string[], options: ExtractOptions = {}): Promise<ExtractReport> {
  await cache.open();
  const batchSize = options.batchSize ?? 16;
  const log = options.log === undefined ? (line: string) => process.stderr.write(line + '\n') : options.log;
  const started = Date.now();
  const todo = images.filter((f) => !cache.has(f));
  const { spec } = encoder;
  const [gh, gw] = encoder.layerGrid;
  const D = encoder.featureDim;
  if (log && todo.length > 0) log(`features: ${todo.length} of ${images.length} images to encode with ${encoder.id}`);
  const progress = phaseProgress({ label: 'features', total: todo.length, unit: 'images', log: todo.length > 0 ? log : null, mode: options.progress, everyCount: options.progressEvery });
  try {
    for (let start = 0; start < todo.length; start += batchSize) {
      const files = todo.slice(start, start + batchSize);
      const batch = await loadImageBatch(files, { size: spec.inputSize, normalisation: spec.normalisation, resize: spec.resize ?? 'centre-crop' });
      toChannelOrder(batch.data, spec.channelOrder ?? 'rgb');
      const out = tf.tidy(() => encoder.run(tf.tensor4d(batch.data, batch.shape)));
      const values = out.dataSync() as Float32Array; // [b, gh, gw, D]
      out.dispose();
      const per = gh * gw * D;
      for (let k = 0; k < files.length; k++) {
        const grid = adaptiveAveragePool(values.subarray(k * per, (k + 1) * per), [gh, gw, D], encoder.grid);
        await cache.write(files[k], grid);
      }
      progress.tick(files.length);
    }
  } catch (error) {
    progress.end();
    throw error;
  }
  progress.done();
  return { images: images.length, computed: todo.length, cached: images.length - todo.length, seconds: (Date.now() - started) / 1000 };
}

/** Cached grids of some dataset images, loaded into memory (they must be extracted first). */
export async function loadFeatureInputs(cache: FeatureCache, dataset: Pick<CaptionDataset, 'images' | 'imagesRoot'>, images: readonly number[]): Promise<MemoryInputs> {
  const byImage = new Map<number, Float32Array>();
  for (const i of images) {
    const file = imagePath(dataset, dataset.images[i]);
    const grid = cache.read(file);
    if (!grid) throw new Error(`feature cache: no features for ${file}; run extractFeatures first`);
    byImage.set(i, grid);
  }
  return new MemoryInputs('features', cache.shape, byImage);
}

/** Cached grids read from disk per batch (datasets whose features do not fit in memory). */
export class DiskFeatureInputs implements ImageInputs {
  readonly kind = 'features' as const;
  readonly shape: readonly number[];

  constructor(
    private readonly cache: FeatureCache,
    private readonly dataset: Pick<CaptionDataset, 'images' | 'imagesRoot'>,
  ) {
    this.shape = cache.shape;
  }

  async read(images: ArrayLike<number>): Promise<Float32Array> {
    const n = this.shape[0] * this.shape[1];
    const out = new Float32Array(images.length * n);
    for (let k = 0; k < images.length; k++) {
      const file = imagePath(this.dataset, this.dataset.images[images[k]]);
      const grid = this.cache.read(file);
      if (!grid) throw new Error(`feature cache: no features for ${file}; run extractFeatures first`);
      out.set(grid, k * n);
    }
    return out;
  }
}
