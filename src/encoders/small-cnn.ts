/**
 * A small CNN trained from scratch together with the decoder: a few 3x3 convolutions with
 * ReLU, most with stride 2, turning an S x S image into a G x G grid of D-channel features.
 *
 *   const cnn = new SmallCnn({ inputSize: 64, channels: [32, 64, 128], strides: [2, 2, 2], seed: 1 });
 *   cnn.encode(pixels);   // [B, 64, 64, 3] -> [B, 64, 128]: an 8 x 8 grid of 128 channels
 *
 * Weights are initialised He-uniform (the fan-in bound of PyTorch's kaiming_uniform with
 * ReLU gain), biases 0, drawn from the seed on the host (same weights on every backend).
 */
import * as tf from '@tensorflow/tfjs';

import type { Seed } from '../common/random';
import { uniformVariable, zerosVariable } from '../compute/init';
import { conv2dSame } from './conv';
import type { TrainableEncoder } from './encoder';

export interface SmallCnnOptions {
  /** Side of the square input in pixels. */
  inputSize: number;
  /** Output channels of each convolution; the last is the feature size D. */
  channels: readonly number[];
  /** Stride of each convolution (same length as channels). */
  strides: readonly number[];
  /** Kernel side (default 3). */
  kernel?: number;
  seed: Seed;
}

export class SmallCnn implements TrainableEncoder {
  readonly id: string;
  readonly inputSize: number;
  readonly grid: [number, number];
  readonly featureDim: number;
  readonly variables: ReadonlyMap<string, tf.Variable>;
  private readonly layers: { kernel: tf.Variable; bias: tf.Variable; stride: number }[];

  constructor(options: SmallCnnOptions) {
    const { inputSize: S, channels, strides } = options;
    const k = options.kernel ?? 3;
    if (channels.length === 0 || channels.length !== strides.length) {
      throw new Error(`SmallCnn: channels [${channels}] and strides [${strides}] must be non-empty and of the same length`);
    }
    const vars = new Map<string, tf.Variable>();
    let inC = 3;
    let side = S;
    this.layers = channels.map((outC, i) => {
      const limit = Math.sqrt(6 / (k * k * inC)); // He-uniform bound
      const kernel = uniformVariable([k, k, inC, outC], limit, options.seed, `cnn.${i}.kernel`); // [k, k, Cin, Cout]
      const bias = zerosVariable([outC], `cnn.${i}.bias`); // [Cout]
      vars.set(`cnn.${i}.kernel`, kernel);
      vars.set(`cnn.${i}.bias`, bias);
      inC = outC;
      side = Math.ceil(side / strides[i]);
      return { kernel, bias, stride: strides[i] };
    });
    this.inputSize = S;
    this.grid = [side, side];
    this.featureDim = inC;
    this.variables = vars;
    this.id = `small-cnn:s${S}:k${k}:c${channels.join('-')}:st${strides.join('-')}`;
  }

  /** pixels [B, S, S, 3] -> features [B, G*G, D]. */
  encode(pixels: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, S, S2, C] = pixels.shape;
      if (S !== this.inputSize || S2 !== this.inputSize || C !== 3) {
        throw new Error(`SmallCnn: input must be [B, ${this.inputSize}, ${this.inputSize}, 3], got [${pixels.shape}]`);
      }
      let x: tf.Tensor4D = pixels;
      this.layers.forEach((layer, i) => {
        // The first layer reads pixels: no gradient flows into them.
        x = tf.relu(conv2dSame(x, layer.kernel as tf.Tensor4D, layer.stride, { inputGradient: i > 0 }).add(layer.bias)) as tf.Tensor4D; // [B, s, s, Cout]
      });
      const [, G1, G2, D] = x.shape;
      return x.reshape([B, G1 * G2, D]) as tf.Tensor3D; // [B, P, D]
    });
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
  }
}
