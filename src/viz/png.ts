/**
 * Pixels to PNG and back to a size: a small encoder (8-bit RGB or RGBA, no interlace, zlib
 * from Node) so that figures can embed images given as pixel arrays, and a reader of a PNG's
 * dimensions from its IHDR chunk.
 *
 *   pngDataUri({ width: 2, height: 1, channels: 3, data: [255, 0, 0, 0, 0, 255] })
 *   // 'data:image/png;base64,iVBORw0…' (a red and a blue pixel)
 */
import { deflateSync } from 'zlib';

/** Pixels, row-major, `channels` bytes each (1 grey, 3 RGB, 4 RGBA), values 0-255. */
export interface Pixels {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: ArrayLike<number>;
}

let crcTable: Uint32Array | undefined;

function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Checks a pixel array's size against its dimensions. */
export function checkPixels(p: Pixels): void {
  if (!(Number.isInteger(p.width) && p.width > 0 && Number.isInteger(p.height) && p.height > 0)) {
    throw new Error(`image size ${p.width} x ${p.height} should be positive integers`);
  }
  if (![1, 3, 4].includes(p.channels)) throw new Error(`channels should be 1, 3 or 4, got ${p.channels}`);
  const expected = p.width * p.height * p.channels;
  if (p.data.length !== expected) {
    throw new Error(`image data has ${p.data.length} values; ${p.width} x ${p.height} x ${p.channels} channels needs ${expected}`);
  }
}

/** Encodes pixels as a PNG (grey is written as RGB). */
export function encodePng(p: Pixels): Buffer {
  checkPixels(p);
  const outChannels = p.channels === 4 ? 4 : 3;
  const stride = p.width * outChannels;
  const raw = new Uint8Array((stride + 1) * p.height);
  for (let y = 0; y < p.height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    for (let x = 0; x < p.width; x++) {
      const src = (y * p.width + x) * p.channels;
      const dst = y * (stride + 1) + 1 + x * outChannels;
      for (let c = 0; c < outChannels; c++) {
        const value = p.channels === 1 ? p.data[src] : p.data[src + c];
        raw[dst + c] = Math.max(0, Math.min(255, Math.round(Number(value))));
      }
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(p.width, 0);
  header.writeUInt32BE(p.height, 4);
  header[8] = 8; // bit depth
  header[9] = outChannels === 4 ? 6 : 2; // colour type: RGBA or RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A `data:image/png;base64,…` URI of the pixels. */
export function pngDataUri(p: Pixels): string {
  return `data:image/png;base64,${encodePng(p).toString('base64')}`;
}

/** Width and height of a PNG, read from its IHDR chunk. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (b.length < 24 || b.readUInt32BE(0) !== 0x89504e47 || b.toString('ascii', 12, 16) !== 'IHDR') {
    throw new Error('not a PNG (no signature and IHDR chunk)');
  }
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}
