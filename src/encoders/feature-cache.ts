/**
 * Frozen encoders' feature grids, computed once per image and cached on disk at the
 * encoder's native grid; pooled to the config's grid when read.
 *
 *   const cache = new FeatureCache('results/cache/features', encoder, dataset, { dtype: 'float16' });
 *   const report = await extractFeatures(encoder, cache, imageIndices, { batchSize: 16 });
 *   // "features: 320/1000 images, 7.9 images/s, ETA 1 min 26 s" at most every 30 s (a bar on a terminal); report.computed, report.cached
 *   cache.keyOf(i);                          // 'val2014/COCO_val2014_000000391895.jpg': dataset.images[i]'s path under the images root
 *   cache.read(cache.keyOf(i));              // its grid [P, D] at the config's grid (pooled on load), or undefined
 *   await cache.write(key, nativeGrid);      // an entry without an image file (a benchmark's random features)
 *
 * Layout: `<dir>/<sha of native encoder id + dtype>/encoder.json` (the encoder's native id,
 * its native grid, feature size and dtype), then per dataset a namespace folder
 * `<image-list fingerprint>/dataset.json` with one entry per image `<2 hex>/<30 hex of
 * sha(key)>.f16` (or `.f32`): header `CLF1`, dtype bits, G_h, G_w, D and the key (UTF-8,
 * padded to 4 bytes), then the native grid [G_h * G_w, D] little-endian, row-major.
 *
 * The key of an image is its path relative to the dataset's images root (moving the images
 * folder keeps the cache), or with `key: 'content'` the SHA-256 of its bytes (an edited image is
 * then recomputed). The namespace of path keys is the fingerprint of the dataset's image list
 * (name, and per image its path, COCO id and extra fields such as the scenes' objects), so two
 * datasets with the same relative paths never share entries; content keys share one namespace.
 * An entry is used only for the key stored in its header (a hash collision reads as a miss).
 * Features are stored at the layer's grid (ResNet-101 at 256 px: 8 x 8 x 2048, 32 GB in float16
 * for COCO's 123,287 images instead of 99 GB at 14 x 14) and pooled (adaptiveAveragePool) to
 * the encoder's `grid` when read, so configs that pool differently share the cache. Files are
 * written atomically (src/common/atomic-write.ts); extraction holds one batch at a time.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { writeFileAtomic } from '../common/atomic-write';
import { readIfExists, readIfExistsSync } from '../common/read-if-exists';
import { type CaptionDataset, imagePath } from '../data/dataset';
import { loadImageBatch } from '../data/images';
import { type ProgressMode, phaseProgress } from '../common/phase-progress';
import type { FrozenEncoder } from './pretrained';
import { adaptiveAveragePool, decodeFeatureEntry, encodeFeatureEntry, ENTRY_HEADER as HEADER, ENTRY_MAGIC as MAGIC, type EntryLayout } from './feature-entry';
import { toChannelOrder } from './preprocess';

// The readers of cached grids (memory, or disk with prefetch) live in feature-inputs.ts.

export type CacheDtype = 'float16' | 'float32';

export interface FeatureCacheOptions {
  /** Stored precision (default float16). */
  dtype?: CacheDtype;
  /** How an image is recognised: its path under the dataset's images root (default), or a hash of its bytes. */
  key?: 'path' | 'content';
}

/** What the cache needs of an encoder: the native id and grid it stores, the grid it serves. */
export type CachedEncoder = Pick<FrozenEncoder, 'nativeId' | 'layerGrid' | 'grid' | 'featureDim'>;

/** The dataset whose images the cache keys: names, paths, the root they are relative to. */
export type CachedDataset = Pick<CaptionDataset, 'name' | 'images' | 'imagesRoot'>;

interface EncoderRecord {
  format: 'captioning-lab feature cache';
  version: 2;
  /** FrozenEncoder.nativeId: the encoder's id without its pooling grid. */
  encoder: string;
  /** The grid stored: the feature layer's own [G_h, G_w]. */
  nativeGrid: [number, number];
  featureDim: number;
  dtype: CacheDtype;
}


function sha(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The namespace of path keys: a short SHA-256 of the dataset's name and its image list (per
 * image, sorted by path: path, COCO id, extra fields), not of its splits or captions.
 */
export function imageListFingerprint(dataset: Pick<CaptionDataset, 'name' | 'images'>): string {
  const hash = createHash('sha256').update(`captioning-lab image list v1\n${dataset.name}\n`);
  const images = [...dataset.images].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const image of images) hash.update(JSON.stringify([image.file, image.cocoId ?? null, image.extra ?? null]) + '\n');
  return hash.digest('hex').slice(0, 16);
}

export class FeatureCache {
  /** The encoder's folder (encoder.json) and the namespace folder holding the entries. */
  readonly folder: string;
  readonly entries: string;
  readonly dtype: CacheDtype;
  /** Regions P and feature size D of every grid read (the encoder's `grid`). */
  readonly shape: [number, number];
  /** Regions and feature size of every grid stored (the layer's `layerGrid`). */
  readonly nativeShape: [number, number];
  readonly keyMode: 'path' | 'content';
  /** Entry files read from disk (sync and async): tests count reads, not time. */
  diskReads = 0;
  private readonly extension: string;
  private readonly contentKeys = new Map<number, string>();
  private opened: Promise<void> | undefined;

  constructor(
    dir: string,
    readonly encoder: CachedEncoder,
    readonly dataset: CachedDataset,
    options: FeatureCacheOptions = {},
  ) {
    this.dtype = options.dtype ?? 'float16';
    this.keyMode = options.key ?? 'path';
    this.extension = this.dtype === 'float16' ? '.f16' : '.f32';
    this.folder = path.join(dir, sha(`${encoder.nativeId}|${this.dtype}|native`).slice(0, 16));
    this.entries = path.join(this.folder, this.keyMode === 'content' ? 'content' : imageListFingerprint(dataset));
    const [gh, gw] = encoder.layerGrid;
    this.shape = [encoder.grid[0] * encoder.grid[1], encoder.featureDim];
    this.nativeShape = [gh * gw, encoder.featureDim];
  }

  /** Writes encoder.json and dataset.json once; a folder holding another encoder's features is an error. */
  open(): Promise<void> {
    this.opened ??= this.writeRecords();
    return this.opened;
  }

  private async writeRecords(): Promise<void> {
    const file = path.join(this.folder, 'encoder.json');
    const record: EncoderRecord = { format: 'captioning-lab feature cache', version: 2, encoder: this.encoder.nativeId, nativeGrid: [...this.encoder.layerGrid], featureDim: this.encoder.featureDim, dtype: this.dtype };
    if (fs.existsSync(file)) {
      const existing = JSON.parse(fs.readFileSync(file, 'utf8')) as EncoderRecord;
      if (existing.encoder !== record.encoder || existing.dtype !== record.dtype || String(existing.nativeGrid) !== String(record.nativeGrid) || existing.featureDim !== record.featureDim) {
        throw new Error(`feature cache ${this.folder} holds features of ${existing.encoder} ([${existing.nativeGrid}] x ${existing.featureDim}, ${existing.dtype}), not ${record.encoder} ([${record.nativeGrid}] x ${record.featureDim}, ${record.dtype})`);
      }
    } else await writeFileAtomic(file, JSON.stringify(record, null, 1) + '\n');
    const datasetFile = path.join(this.entries, 'dataset.json');
    if (!fs.existsSync(datasetFile)) {
      const about = this.keyMode === 'content' ? { key: 'content' } : { key: 'path', dataset: this.dataset.name, images: this.dataset.images.length, imagesRoot: this.dataset.imagesRoot };
      await writeFileAtomic(datasetFile, JSON.stringify(about, null, 1) + '\n');
    }
  }

  /** The cache key of dataset.images[i]: its path under the images root (or the hash of its bytes). */
  keyOf(i: number): string {
    const image = this.dataset.images[i];
    if (!image) throw new Error(`feature cache: the dataset has no image ${i} (${this.dataset.images.length} images)`);
    if (this.keyMode === 'path') return image.file;
    let key = this.contentKeys.get(i);
    if (key === undefined) {
      key = `sha256:${sha(fs.readFileSync(imagePath(this.dataset, image)))}`;
      this.contentKeys.set(i, key);
    }
    return key;
  }

  /** The entry file of a key. */
  fileOf(key: string): string {
    const h = sha(key);
    return path.join(this.entries, h.slice(0, 2), h.slice(2, 32) + this.extension);
  }

  /** Whether the key has an entry (its header names the key). */
  has(key: string): boolean {
    let fd: number;
    try {
      fd = fs.openSync(this.fileOf(key), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    try {
      const want = Buffer.from(key, 'utf8');
      const head = Buffer.alloc(HEADER + want.length);
      const n = fs.readSync(fd, head, 0, head.length, 0);
      return n === head.length && head.readUInt32LE(0) === MAGIC && head.readUInt32LE(20) === want.length && head.subarray(HEADER).equals(want);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The stored grid [G_h * G_w, D] of a key at the native grid, or undefined. */
  readNative(key: string): Float32Array | undefined {
    const file = this.fileOf(key);
    const bytes = readIfExistsSync(file);
    if (!bytes) return undefined;
    this.diskReads += 1;
    return decodeFeatureEntry(key, file, bytes, this.layout);
  }

  /** The grid [P, D] of a key at the encoder's grid (pooled from the native one), or undefined. */
  read(key: string): Float32Array | undefined {
    const native = this.readNative(key);
    return native && this.pool(native);
  }

  /** As `read`, reading the file asynchronously (DiskFeatureInputs). */
  async readAsync(key: string): Promise<Float32Array | undefined> {
    const file = this.fileOf(key);
    const bytes = await readIfExists(file);
    if (!bytes) return undefined;
    this.diskReads += 1;
    const native = decodeFeatureEntry(key, file, bytes, this.layout);
    return native && this.pool(native);
  }

  /** Stores the native grid [G_h * G_w, D] under a key (from keyOf, or a dataset image's path), atomically. */
  async write(key: string, grid: Float32Array): Promise<void> {
    const [P, D] = this.nativeShape;
    if (grid.length !== P * D) throw new Error(`feature cache: grid of ${grid.length} values, expected the native [${this.encoder.layerGrid}] x ${D} = ${P * D}`);
    await this.open();
    const out = encodeFeatureEntry(key, grid, this.layout);
    await writeFileAtomic(this.fileOf(key), out);
  }

  /** What each entry of this cache holds (feature-entry.ts). */
  get layout(): EntryLayout {
    return { dtype: this.dtype, layerGrid: [...this.encoder.layerGrid], featureDim: this.encoder.featureDim };
  }

  private pool(native: Float32Array): Float32Array {
    return adaptiveAveragePool(native, [...this.encoder.layerGrid, this.encoder.featureDim], this.encoder.grid);
  }
}

export interface ExtractOptions {
  /** Images through the encoder at a time (default 16). */
  batchSize?: number;
  /** Progress lines (default stderr; null: silent). */
  log?: ((line: string) => void) | null;
  /** Also a progress line every this many images (default: by time only, at most every 30 s; src/common/phase-progress.ts). */
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

/** Computes and caches (at the native grid) the grids of the dataset images (indices) not cached yet. */
export async function extractFeatures(encoder: FrozenEncoder, cache: FeatureCache, images: readonly number[], options: ExtractOptions = {}): Promise<ExtractReport> {
  await cache.open();
  const batchSize = options.batchSize ?? 16;
  const log = options.log === undefined ? (line: string) => process.stderr.write(line + '\n') : options.log;
  const started = Date.now();
  const seen = new Set<string>();
  const todo = images.filter((i) => {
    const key = cache.keyOf(i);
    if (seen.has(key)) return false; // the same image twice is encoded once
    seen.add(key);
    return !cache.has(key);
  });
  const { spec } = encoder;
  const [gh, gw] = encoder.layerGrid;
  const D = encoder.featureDim;
  if (log && todo.length > 0) log(`features: ${todo.length} of ${images.length} images to encode with ${encoder.id}`);
  const progress = phaseProgress({ label: 'features', total: todo.length, unit: 'images', log: todo.length > 0 ? log : null, mode: options.progress, everyCount: options.progressEvery });
  try {
    for (let start = 0; start < todo.length; start += batchSize) {
      const part = todo.slice(start, start + batchSize);
      const batch = await loadImageBatch(part.map((i) => imagePath(cache.dataset, cache.dataset.images[i])), { size: spec.inputSize, normalisation: spec.normalisation, resize: spec.resize ?? 'centre-crop' });
      toChannelOrder(batch.data, spec.channelOrder ?? 'rgb');
      const out = tf.tidy(() => encoder.run(tf.tensor4d(batch.data, batch.shape)));
      const values = out.dataSync() as Float32Array; // [b, gh, gw, D]
      out.dispose();
      const per = gh * gw * D;
      for (let k = 0; k < part.length; k++) await cache.write(cache.keyOf(part[k]), values.subarray(k * per, (k + 1) * per));
      progress.tick(part.length);
    }
  } catch (error) {
    progress.end();
    throw error;
  }
  progress.done();
  return { images: images.length, computed: todo.length, cached: images.length - todo.length, seconds: (Date.now() - started) / 1000 };
}
