// Shared by the dataset tests: fixture paths, temporary folders, and real image files made
// with sharp (so no binary fixture is committed).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';

export const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'data');

/** A fresh temporary folder, removed when the process exits. */
export function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `captioning-${label}-`));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An 8-bit RGB image whose left half is `left` and right half `right`. */
export function halves(width: number, height: number, left: number[], right: number[]): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      pixels.set(x < width / 2 ? left : right, (y * width + x) * 3);
    }
  }
  return pixels;
}

/** Writes an RGB image as JPEG or PNG (by extension). */
export async function writeRgb(file: string, pixels: Buffer, width: number, height: number): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const image = sharp(pixels, { raw: { width, height, channels: 3 } });
  await (file.endsWith('.png') ? image.png() : image.jpeg({ quality: 95 })).toFile(file);
}

/**
 * The images root the Karpathy fixture names (train2014/a.jpg, b.jpg; val2014/c.jpg,
 * d.png, e.png), at odd sizes.
 */
export async function makeFixtureImages(): Promise<string> {
  const root = tempDir('images');
  await writeRgb(path.join(root, 'train2014', 'a.jpg'), halves(37, 23, [200, 30, 30], [30, 30, 200]), 37, 23);
  await writeRgb(path.join(root, 'train2014', 'b.jpg'), halves(23, 37, [30, 200, 30], [200, 200, 30]), 23, 37);
  await writeRgb(path.join(root, 'val2014', 'c.jpg'), halves(50, 41, [90, 90, 90], [10, 10, 10]), 50, 41);
  await writeRgb(path.join(root, 'val2014', 'd.png'), halves(17, 17, [0, 0, 0], [255, 255, 255]), 17, 17);
  await writeRgb(path.join(root, 'val2014', 'e.png'), halves(64, 9, [255, 0, 0], [0, 0, 255]), 64, 9);
  return root;
}
