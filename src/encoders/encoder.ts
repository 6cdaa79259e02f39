/**
 * What an image encoder gives the decoder: a grid of G_h x G_w regions, each a D-vector,
 * flattened row-major to [P = G_h * G_w, D] per image.
 *
 * Two kinds exist. A frozen encoder (pretrained.ts) runs once per image; its grids are
 * cached on disk (feature-cache.ts) and the decoder trains on the cached features. A
 * trainable encoder (small-cnn.ts) runs inside every training step on the pixels and is
 * trained with the decoder; it implements this interface.
 */
import type * as tf from '@tensorflow/tfjs';

export interface TrainableEncoder {
  /** Identifies the architecture, e.g. `small-cnn:s64:k3:c32-64-128:st2-2-2`. */
  readonly id: string;
  /** Side of the square input in pixels. */
  readonly inputSize: number;
  /** Grid rows and columns [G_h, G_w]. */
  readonly grid: [number, number];
  /** Feature size D. */
  readonly featureDim: number;
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** pixels [B, S, S, 3] -> features [B, P, D]. */
  encode(pixels: tf.Tensor4D): tf.Tensor3D;
  dispose(): void;
}
