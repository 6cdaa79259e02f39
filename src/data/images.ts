/**
 * Images for an encoder: decode (JPEG, PNG, and whatever else libvips reads) with sharp,
 * whatever the size and colour mode, then resize and normalise to the encoder's input.
 *
 *   const image = await loadImage('dog.jpg', { size: 224, normalisation: 'imagenet' });
 *   image.data;                                       // Float32Array, [H, W, 3] row-major
 *   const x = await loadImageTensor('dog.jpg', { size: 224 });   // tf.Tensor3D [224, 224, 3]
 *
 * Decoding: EXIF orientation applied; greyscale (8 or 16 bit) becomes 3 equal channels;
 * an alpha channel is dropped (default, as PIL's convert('RGB')) or flattened onto a
 * background; 16-bit images are scaled to 8 bits; CMYK is converted to sRGB.
 * Resizing: 'centre-crop' (default) scales the shorter side to the target and crops the
 * centre; 'stretch' scales both sides independently. A missing or corrupt file is an error
 * that names the path.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import sharp from 'sharp';

import { type Normalisation, NORMALISATION_NAMES, type NormalisationName } from '../config';

/**
 * Named normalisations: `imagenet` (torchvision and most PyTorch ImageNet models, e.g. the
 * report's ResNet-101), `minus-one-to-one` (Keras MobileNet/Inception `preprocess_input`:
 * x / 127.5 - 1), `zero-to-one` (x / 255).
 */
export const NORMALISATIONS = {
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  'minus-one-to-one': { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  'zero-to-one': { mean: [0, 0, 0], std: [1, 1, 1] },
} as const satisfies Record<NormalisationName, Normalisation>;

/** How the image is brought to the target size. */
export type ResizeMode = 'centre-crop' | 'stretch';

export interface ImageOptions {
  /** Target side in pixels (square), or height and width. */
  size: number | { height: number; width: number };
  /** Default 'centre-crop'. */
  resize?: ResizeMode;
  /** A preset name or explicit mean/std; default 'imagenet'. */
  normalisation?: NormalisationName | Normalisation;
  /** An alpha channel is dropped (default) or composited onto `background`. */
  alpha?: 'drop' | 'flatten';
  /** Background for alpha: 'flatten', as CSS colour; default white. */
  background?: string;
  /** Reject images with decoder warnings such as truncation ('warning', default) or only hard errors ('error'). */
  failOn?: 'warning' | 'error';
}

/** A decoded image: float pixels in row-major [H, W, 3] order. */
export interface DecodedImage {
  file: string;
  height: number;
  width: number;
  data: Float32Array; // [H, W, 3]
  /** The file as stored: size (before EXIF rotation), format, channels and bit depth. */
  source: { width: number; height: number; format: string; channels: number; depth: string; orientation?: number };
}

/** Resolves a normalisation option to mean and std, with an error naming the valid presets. */
export function resolveNormalisation(option: ImageOptions['normalisation'] = 'imagenet'): Normalisation {
  if (typeof option === 'string') {
    const preset = (NORMALISATIONS as Record<string, Normalisation>)[option];
    if (!preset) throw new Error(`normalisation ${JSON.stringify(option)} is not a preset; use one of ${NORMALISATION_NAMES.join(', ')} or { mean, std }`);
    return preset;
  }
  if (option.mean.length !== 3 || option.std.length !== 3 || option.std.some((s) => !(s > 0))) {
    throw new Error(`normalisation needs 3 means and 3 positive standard deviations, got ${JSON.stringify(option)}`);
  }
  return option;
}

function targetSize(size: ImageOptions['size']): { height: number; width: number } {
  const { height, width } = typeof size === 'number' ? { height: size, width: size } : size;
  for (const [name, value] of [['height', height], ['width', width]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`image size: ${name} must be a whole number >= 1, got ${value}`);
  }
  return { height, width };
}

/** Reads a file, turning "not found" into an error that names the path. */
async function readImageFile(file: string): Promise<Buffer> {
  try {
    return await fs.promises.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`image not found: ${file}`);
    if (code === 'EISDIR') throw new Error(`image ${file} is a folder, not a file`);
    throw new Error(`cannot read image ${file}: ${(error as Error).message}`);
  }
}

/** First line of a sharp/libvips message. */
function vipsMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0].trim();
}

/**
 * Decodes a file to 8-bit sRGB pixels, oriented, with alpha handled, resized when `size` is
 * given. The shared first half of `loadImage`, `imageDataUri` and the dataset check.
 */
export async function decodeRgb(
  file: string,
  options: Omit<ImageOptions, 'size' | 'normalisation'> & { size?: ImageOptions['size'] } = {},
): Promise<{ pixels: Buffer; height: number; width: number; source: DecodedImage['source'] }> {
  const bytes = await readImageFile(file);
  try {
    const input = sharp(bytes, { failOn: options.failOn ?? 'warning' });
    const meta = await input.metadata();
    let pipeline = input.autoOrient();
    pipeline = (options.alpha ?? 'drop') === 'drop' ? pipeline.removeAlpha() : pipeline.flatten({ background: options.background ?? '#ffffff' });
    if (options.size !== undefined) {
      const { height, width } = targetSize(options.size);
      pipeline = pipeline.resize(width, height, {
        fit: (options.resize ?? 'centre-crop') === 'centre-crop' ? 'cover' : 'fill',
        position: 'centre',
        kernel: 'lanczos3',
      });
    }
    const { data, info } = await pipeline.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return {
      pixels: data,
      height: info.height,
      width: info.width,
      source: {
        width: meta.width ?? info.width,
        height: meta.height ?? info.height,
        format: meta.format ?? 'unknown',
        channels: meta.channels ?? 0,
        depth: meta.depth ?? 'unknown',
        ...(meta.orientation !== undefined ? { orientation: meta.orientation } : {}),
      },
    };
  } catch (error) {
    throw new Error(`cannot decode image ${file}: ${vipsMessage(error)}`);
  }
}

/** Writes normalised floats of 8-bit RGB pixels into `out` from `offset`. */
function normaliseInto(pixels: Uint8Array, norm: Normalisation, out: Float32Array, offset: number): void {
  const [m0, m1, m2] = norm.mean;
  const [s0, s1, s2] = norm.std;
  // (x / 255 - mean) / std = x * a + b per channel.
  const a = [1 / (255 * s0), 1 / (255 * s1), 1 / (255 * s2)];
  const b = [-m0 / s0, -m1 / s1, -m2 / s2];
  for (let i = 0; i < pixels.length; i += 3) {
    out[offset + i] = pixels[i] * a[0] + b[0];
    out[offset + i + 1] = pixels[i + 1] * a[1] + b[1];
    out[offset + i + 2] = pixels[i + 2] * a[2] + b[2];
  }
}

/** Decodes, resizes and normalises one image to a Float32Array [H, W, 3]. */
export async function loadImage(file: string, options: ImageOptions): Promise<DecodedImage> {
  const norm = resolveNormalisation(options.normalisation);
  const { pixels, height, width, source } = await decodeRgb(file, options);
  const data = new Float32Array(height * width * 3); // [H, W, 3]
  normaliseInto(pixels, norm, data, 0);
  return { file, height, width, data, source };
}

/** One image as a tensor [H, W, 3] (the caller disposes it). */
export async function loadImageTensor(file: string, options: ImageOptions): Promise<tf.Tensor3D> {
  const image = await loadImage(file, options);
  return tf.tensor3d(image.data, [image.height, image.width, 3], 'float32'); // [H, W, 3]
}

/** Pixels of several images packed as one [B, H, W, 3] array, ready for `tf.tensor4d`. */
export interface ImageBatch {
  files: string[];
  data: Float32Array; // [B, H, W, 3]
  shape: [number, number, number, number];
}

/**
 * Loads images into one [B, H, W, 3] array, decoding at most `concurrency` at a time (sharp
 * decodes on libuv's threads). Every image has the target size, so they stack.
 */
export async function loadImageBatch(files: readonly string[], options: ImageOptions, concurrency = 4): Promise<ImageBatch> {
  const norm = resolveNormalisation(options.normalisation);
  const { height, width } = targetSize(options.size);
  const per = height * width * 3;
  const data = new Float32Array(files.length * per); // [B, H, W, 3]
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const b = next++;
      const { pixels } = await decodeRgb(files[b], options);
      normaliseInto(pixels, norm, data, b * per);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  return { files: [...files], data, shape: [files.length, height, width, 3] };
}

/** A batch's pixels as a tensor [B, H, W, 3] (the caller disposes it). */
export function imageBatchTensor(batch: ImageBatch): tf.Tensor4D {
  return tf.tensor4d(batch.data, batch.shape, 'float32'); // [B, H, W, 3]
}

/**
 * An image as a `data:` URI (PNG, or JPEG for photos), its longer side at most `maxSide`
 * pixels, for figures. Returns the URI and the size of the image it holds.
 */
export async function imageDataUri(
  file: string,
  options: { maxSide?: number; format?: 'png' | 'jpeg' } = {},
): Promise<{ uri: string; width: number; height: number }> {
  const { pixels, width, height } = await decodeRgb(file);
  const maxSide = options.maxSide ?? 256;
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  let pipeline = sharp(pixels, { raw: { width, height, channels: 3 } });
  if (w !== width || h !== height) pipeline = pipeline.resize(w, h, { fit: 'fill' });
  const format = options.format ?? 'png';
  const bytes = format === 'png' ? await pipeline.png().toBuffer() : await pipeline.jpeg({ quality: 85 }).toBuffer();
  return { uri: `data:image/${format};base64,${bytes.toString('base64')}`, width: w, height: h };
}
