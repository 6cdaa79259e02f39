/**
 * What the training loop and the decoders read per image: the encoder's input, either
 * pixels [S, S, 3] (a CNN trained with the decoder) or a cached feature grid [P, D] (a
 * frozen encoder). One interface, two stores: everything in memory (the scenes: 1,000
 * images), or features read from the disk cache per batch with the next one prefetched
 * (feature-inputs.ts; COCO: 123k grids do not fit).
 */
import * as tf from '@tensorflow/tfjs';

import { type CaptionDataset, imagePath } from '../data/dataset';
import { type ImageOptions, loadImageBatch } from '../data/images';
import type { ChannelOrder } from '../config';
import { toChannelOrder } from './preprocess';

export interface ImageInputs {
  readonly kind: 'pixels' | 'features';
  /** Shape of one image's input: [S, S, 3] or [P, D]. */
  readonly shape: readonly number[];
  /** Inputs of some images (indices into dataset.images), concatenated: [n, ...shape]. */
  read(images: ArrayLike<number>): Promise<Float32Array>;
  /** Starts reading images the caller will `read` next (stores that read from disk; absent: nothing to do ahead). */
  prefetch?(images: ArrayLike<number>): void;
}

/** A tensor [n, ...shape] of some images' inputs (the caller disposes it). */
export async function inputTensor(inputs: ImageInputs, images: ArrayLike<number>): Promise<tf.Tensor> {
  const data = await inputs.read(images);
  return tf.tensor(data, [images.length, ...inputs.shape], 'float32');
}

/** Inputs held in memory, one Float32Array per image. */
export class MemoryInputs implements ImageInputs {
  private readonly size: number;

  constructor(
    readonly kind: 'pixels' | 'features',
    readonly shape: readonly number[],
    private readonly byImage: ReadonlyMap<number, Float32Array>,
  ) {
    this.size = shape.reduce((a, b) => a * b, 1);
    for (const [i, data] of byImage) {
      if (data.length !== this.size) throw new Error(`MemoryInputs: image ${i} has ${data.length} values, expected [${shape}] = ${this.size}`);
    }
  }

  async read(images: ArrayLike<number>): Promise<Float32Array> {
    const out = new Float32Array(images.length * this.size);
    for (let k = 0; k < images.length; k++) {
      const data = this.byImage.get(images[k]);
      if (!data) throw new Error(`MemoryInputs: image ${images[k]} was not loaded`);
      out.set(data, k * this.size);
    }
    return out;
  }
}

export interface PixelLoadOptions extends ImageOptions {
  /** RGB as decoded (default) or BGR (Caffe-style models). */
  channelOrder?: ChannelOrder;
  /** Images decoded per chunk (default 64). */
  chunk?: number;
}

/** Decodes, resizes and normalises the pixels of some images into memory. */
export async function loadPixelInputs(dataset: Pick<CaptionDataset, 'images' | 'imagesRoot'>, images: readonly number[], options: PixelLoadOptions): Promise<MemoryInputs> {
  const chunk = options.chunk ?? 64;
  const byImage = new Map<number, Float32Array>();
  let shape: number[] = [];
  for (let start = 0; start < images.length; start += chunk) {
    const part = images.slice(start, start + chunk);
    const batch = await loadImageBatch(part.map((i) => imagePath(dataset, dataset.images[i])), options);
    const [, H, W, C] = batch.shape;
    shape = [H, W, C];
    const per = H * W * C;
    part.forEach((i, k) => byImage.set(i, toChannelOrder(batch.data.slice(k * per, (k + 1) * per), options.channelOrder ?? 'rgb')));
  }
  return new MemoryInputs('pixels', shape, byImage);
}
