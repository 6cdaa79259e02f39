/**
 * Preprocessing beyond src/data/images.ts: the channel order some converted models expect.
 * Keras' Caffe-style models (ResNet50/101 `preprocess_input`) read BGR with the ImageNet
 * means [103.939, 116.779, 123.68] (BGR) subtracted in 0-255 units; express that as
 * normalisation CAFFE_NORMALISATION (src/config/profiles.ts: mean [123.68, 116.779, 103.939] / 255,
 * std 1/255, RGB order, applied first) and `channelOrder: 'bgr'`, as the paper profile does.
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
