/**
 * One feature-cache entry as it is on disk, and the pooling applied when it is read: code
 * without tfjs, so that the reading worker (feature-read-worker.ts) loads it in milliseconds.
 *
 *   const grid = decodeFeatureEntry(key, file, bytes, layout);   // [G_h * G_w, D] native, or undefined (another key)
 *   adaptiveAveragePool(grid, [8, 8, 2048], [14, 14]);            // [14 * 14, 2048]
 *
 * Format: header `CLF1` (uint32 little-endian), dtype bits (16 or 32), G_h, G_w, D and the key's
 * byte length, the key (UTF-8, padded to 4 bytes), then the native grid [G_h * G_w, D]
 * little-endian, row-major. The key in the header makes a hash collision read as a miss.
 */
import { decodeHalf, encodeHalf } from './float16';

export const ENTRY_MAGIC = 0x31464c43; // 'CLF1' little-endian
export const ENTRY_HEADER = 24;

/** What every entry of one cache folder holds. */
export interface EntryLayout {
  dtype: 'float16' | 'float32';
  /** The layer's native grid [G_h, G_w] and feature size D. */
  layerGrid: [number, number];
  featureDim: number;
}

/** The bytes of an entry holding the native grid [G_h * G_w, D] under `key`. */
export function encodeFeatureEntry(key: string, grid: Float32Array, layout: EntryLayout): Uint8Array {
  const keyBytes = Buffer.from(key, 'utf8');
  const header = ENTRY_HEADER + Math.ceil(keyBytes.length / 4) * 4;
  const data = layout.dtype === 'float16' ? new Uint8Array(encodeHalf(grid).buffer) : new Uint8Array(grid.buffer, grid.byteOffset, grid.byteLength);
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  [ENTRY_MAGIC, layout.dtype === 'float16' ? 16 : 32, layout.layerGrid[0], layout.layerGrid[1], layout.featureDim, keyBytes.length].forEach((v, k) => view.setUint32(4 * k, v, true));
  out.set(keyBytes, ENTRY_HEADER);
  out.set(data, header);
  return out;
}

/** The native grid of an entry; undefined when its header names another key; an error naming the file when damaged. */
export function decodeFeatureEntry(key: string, file: string, bytes: Uint8Array, layout: EntryLayout): Float32Array | undefined {
  const damaged = (why: string) => new Error(`feature cache file ${file}: ${why}; delete it to recompute`);
  if (bytes.length < ENTRY_HEADER) throw damaged(`${bytes.length} bytes, shorter than the header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [magic, bits, gh, gw, D, keyLength] = [0, 1, 2, 3, 4, 5].map((k) => view.getUint32(4 * k, true));
  if (magic !== ENTRY_MAGIC) throw damaged('not a feature cache entry (no CLF1 header)');
  if (Buffer.from(bytes.buffer, bytes.byteOffset + ENTRY_HEADER, Math.min(keyLength, bytes.length - ENTRY_HEADER)).toString('utf8') !== key) return undefined;
  const [lh, lw] = layout.layerGrid;
  const want = layout.dtype === 'float16' ? 16 : 32;
  if (bits !== want || gh !== lh || gw !== lw || D !== layout.featureDim) throw damaged(`holds [${gh}, ${gw}] x ${D} float${bits}, expected [${layout.layerGrid}] x ${layout.featureDim} float${want}`);
  const start = ENTRY_HEADER + Math.ceil(keyLength / 4) * 4;
  const n = gh * gw * D;
  if (bytes.length !== start + n * (bits / 8)) throw damaged(`${bytes.length} bytes, expected ${start + n * (bits / 8)}`);
  const raw = bytes.subarray(start);
  if (bits === 32) {
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(raw);
    return out;
  }
  const aligned = raw.byteOffset % 2 === 0 ? raw : new Uint8Array(raw); // a copy only when unaligned
  return decodeHalf(new Uint16Array(aligned.buffer, aligned.byteOffset, n));
}

/**
 * Adaptive average pooling of a feature grid on the host, as PyTorch's AdaptiveAvgPool2d:
 * output cell i covers input rows floor(i*H/G) .. ceil((i+1)*H/G) - 1 (the reference code
 * pools ResNet's 8 x 8 grid at 256 px to 14 x 14).
 * grid [H, W, D] row-major -> [G_h, G_w, D].
 */
export function adaptiveAveragePool(data: Float32Array, [H, W, D]: [number, number, number], [Gh, Gw]: [number, number]): Float32Array {
  if (Gh === H && Gw === W) return data;
  const out = new Float32Array(Gh * Gw * D);
  for (let i = 0; i < Gh; i++) {
    const y0 = Math.floor((i * H) / Gh);
    const y1 = Math.ceil(((i + 1) * H) / Gh);
    for (let j = 0; j < Gw; j++) {
      const x0 = Math.floor((j * W) / Gw);
      const x1 = Math.ceil(((j + 1) * W) / Gw);
      const n = (y1 - y0) * (x1 - x0);
      const o = (i * Gw + j) * D;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const s = (y * W + x) * D;
          for (let d = 0; d < D; d++) out[o + d] += data[s + d];
        }
      }
      for (let d = 0; d < D; d++) out[o + d] /= n;
    }
  }
  return out;
}
