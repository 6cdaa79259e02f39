/**
 * A cache of float32 matrices by text key: a bounded in-memory LRU in front of an optional
 * folder of binary files, one per entry, written atomically (temporary file + rename).
 *
 *   const cache = new VectorCache({ dir: 'results/cache/bert/<namespace>', maxMemoryBytes: 256 << 20 });
 *   await cache.set('full|a red circle', vectors, rows, cols);
 *   cache.get('full|a red circle');   // { data, rows, cols } from memory, else from disk, else undefined
 *   cache.stats;                      // memory hits, disk hits, misses, writes: tests count, not time
 *
 * File `<dir>/<2 hex>/<sha256 of key>.f32`: magic `CLV1`, uint32 rows, cols and key length,
 * the key (UTF-8, padded to 4 bytes), then rows x cols float32 little-endian. The key is
 * stored so that a hash collision reads as a miss, never as wrong vectors. `get` is
 * synchronous so that a synchronous consumer (the decoder's word inputs) can read it.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { writeFileAtomic } from '../../common/atomic-write';
import { readIfExists, readIfExistsSync } from '../../common/read-if-exists';

export interface CachedMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

export interface VectorCacheOptions {
  /** Folder of the files; null or absent: memory only. */
  dir?: string | null;
  /** Memory budget of the LRU in bytes (default 256 MiB). */
  maxMemoryBytes?: number;
}

export interface VectorCacheStats {
  memoryHits: number;
  diskHits: number;
  misses: number;
  writes: number;
  evictions: number;
  /** Bytes held in memory now. */
  memoryBytes: number;
  /** Entries held in memory now. */
  memoryEntries: number;
}

const MAGIC = 0x31564c43; // 'CLV1' little-endian

/** Encodes one entry as the file format above. */
export function encodeEntry(key: string, m: CachedMatrix): Uint8Array {
  const keyBytes = Buffer.from(key, 'utf8');
  const keyPadded = Math.ceil(keyBytes.length / 4) * 4;
  const header = 16 + keyPadded;
  const out = new Uint8Array(header + m.data.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, m.rows, true);
  view.setUint32(8, m.cols, true);
  view.setUint32(12, keyBytes.length, true);
  out.set(keyBytes, 16);
  out.set(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength), header);
  return out;
}

/** Decodes a file; undefined when it is not this key's entry (or damaged). */
export function decodeEntry(key: string, bytes: Uint8Array): CachedMatrix | undefined {
  if (bytes.length < 16) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) return undefined;
  const rows = view.getUint32(4, true);
  const cols = view.getUint32(8, true);
  const keyLength = view.getUint32(12, true);
  const header = 16 + Math.ceil(keyLength / 4) * 4;
  if (bytes.length !== header + rows * cols * 4) return undefined;
  if (Buffer.from(bytes.buffer, bytes.byteOffset + 16, keyLength).toString('utf8') !== key) return undefined;
  const data = new Float32Array(rows * cols);
  new Uint8Array(data.buffer).set(bytes.subarray(header));
  return { data, rows, cols };
}

export class VectorCache {
  readonly dir: string | null;
  readonly maxMemoryBytes: number;
  private readonly memory = new Map<string, CachedMatrix>();
  private bytes = 0;
  private readonly counts = { memoryHits: 0, diskHits: 0, misses: 0, writes: 0, evictions: 0 };

  constructor(options: VectorCacheOptions = {}) {
    this.dir = options.dir ? path.resolve(options.dir) : null;
    this.maxMemoryBytes = options.maxMemoryBytes ?? 256 * 1024 * 1024;
    if (!(this.maxMemoryBytes >= 0)) throw new Error(`VectorCache: maxMemoryBytes must be >= 0, got ${options.maxMemoryBytes}`);
  }

  get stats(): VectorCacheStats {
    return { ...this.counts, memoryBytes: this.bytes, memoryEntries: this.memory.size };
  }

  /** The file of a key (null when memory-only). */
  fileOf(key: string): string | null {
    if (!this.dir) return null;
    const hash = createHash('sha256').update(key).digest('hex');
    return path.join(this.dir, hash.slice(0, 2), `${hash}.f32`);
  }

  /** Memory, then disk; undefined on a miss. */
  get(key: string, options: { disk?: boolean } = {}): CachedMatrix | undefined {
    const hit = this.memory.get(key);
    if (hit) {
      this.memory.delete(key); // most recently used last
      this.memory.set(key, hit);
      this.counts.memoryHits += 1;
      return hit;
    }
    const file = options.disk === false ? null : this.fileOf(key);
    if (file) {
      const bytes = readIfExistsSync(file);
      const entry = bytes ? decodeEntry(key, bytes) : undefined;
      if (entry) {
        this.counts.diskHits += 1;
        this.remember(key, entry);
        return entry;
      }
    }
    this.counts.misses += 1;
    return undefined;
  }

  /**
   * Memory, then disk, read asynchronously (a prefetch: the entry is kept in memory for a
   * later `get`); undefined on a miss.
   */
  async load(key: string): Promise<CachedMatrix | undefined> {
    const hit = this.memory.get(key);
    if (hit) return hit;
    const file = this.fileOf(key);
    if (!file) return undefined;
    const bytes = await readIfExists(file);
    if (!bytes) return undefined;
    const entry = decodeEntry(key, bytes);
    if (entry) {
      this.counts.diskHits += 1;
      this.remember(key, entry);
    }
    return entry;
  }

  /** Whether a key is present (memory or disk), without counting. */
  has(key: string): boolean {
    if (this.memory.has(key)) return true;
    const file = this.fileOf(key);
    return file !== null && fs.existsSync(file);
  }

  /** Stores an entry in memory and, unless `persist` is false, on disk. */
  async set(key: string, data: Float32Array, rows: number, cols: number, options: { persist?: boolean } = {}): Promise<void> {
    if (data.length !== rows * cols) throw new Error(`VectorCache.set: ${data.length} values for ${rows} x ${cols}`);
    const entry = { data, rows, cols };
    this.remember(key, entry);
    const file = options.persist === false ? null : this.fileOf(key);
    if (file) {
      await writeFileAtomic(file, encodeEntry(key, entry));
      this.counts.writes += 1;
    }
  }

  /** Empties the memory part (files stay). */
  clearMemory(): void {
    this.memory.clear();
    this.bytes = 0;
  }

  private remember(key: string, entry: CachedMatrix): void {
    const size = entry.data.byteLength + 64 + key.length * 2;
    if (size > this.maxMemoryBytes) return;
    const old = this.memory.get(key);
    if (old) {
      this.memory.delete(key);
      this.bytes -= old.data.byteLength + 64 + key.length * 2;
    }
    this.memory.set(key, entry);
    this.bytes += size;
    for (const [k, v] of this.memory) {
      if (this.bytes <= this.maxMemoryBytes) break;
      this.memory.delete(k);
      this.bytes -= v.data.byteLength + 64 + k.length * 2;
      this.counts.evictions += 1;
    }
  }
}
