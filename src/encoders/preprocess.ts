/**
 * Preprocessing beyond src/data/images.ts: the channel order some converted models expect.
 * Keras' Caffe-style models (ResNet50/101 `preprocess_input`) read BGR with the ImageNet
 * means subtracted in 0-255 units; express that as normalisation
 * `{ mean: [0.485, 0.458, 0.408], std: [1/255, 1/255, 1/255] }` (RGB order, applied first)
 * and `channelOrder: 'bgr'`.
 */
import type { ChannelOrder } from '../config';

/** Returns pixels [..., 3] in the wanted channel order (in place for 'bgr'). */
export function toChannelOrder(pixels: Float32Array, order: ChannelOrder): Float32Array {
  if (order === 'rgb') return pixels;
  for (let i = 0; i + 2 < pixels.length; i += 3) {
    const r = pixels[i];
    pixels[i] = pixels[i + 2];
    pixels[i + 2] = r;
  }
  return pixels;
}
