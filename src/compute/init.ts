/**
 * Seeded weight initialisation, drawn on the host from the project's generator
 * (src/common/random.ts), so that the same seed gives the same weights on every backend.
 *
 * The reference code (sgrvinod) initialises the embedding and the output layer uniformly in
 * [-0.1, 0.1] (output bias 0) and leaves every other layer at PyTorch's default: Linear and
 * LSTM weights and biases uniform in ±1/sqrt(fan_in) (LSTM: ±1/sqrt(hidden)). We do the same.
 */
import * as tf from '@tensorflow/tfjs';

import { createRng, type Seed } from '../common/random';

/** A [..shape] tensor of values uniform in [-limit, limit), from `seed`. */
export function uniformTensor(shape: number[], limit: number, seed: Seed): tf.Tensor {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = (rng.next() * 2 - 1) * limit;
  return tf.tensor(values, shape, 'float32');
}

/** A trainable variable of uniform values; `name` is unique per model and also keys the seed. */
export function uniformVariable(shape: number[], limit: number, seed: Seed, name: string): tf.Variable {
  return tf.tidy(() => tf.variable(uniformTensor(shape, limit, `${String(seed)}/${name}`), true, uniqueName(name)));
}

/** A trainable variable of zeros. */
export function zerosVariable(shape: number[], name: string): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zeros(shape), true, uniqueName(name)));
}

let counter = 0;
/** tfjs variable names are global: make ours unique per process while keeping the readable part. */
function uniqueName(name: string): string {
  counter += 1;
  return `${name}_${counter}`;
}

/** PyTorch's default bound for a Linear layer with `fanIn` inputs. */
export function defaultLimit(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}
