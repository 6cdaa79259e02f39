/**
 * `tf.tidy` for functions returning our own result objects (with optional or null tensor
 * fields, which tfjs's `TensorContainer` type does not admit; tidy itself walks any object
 * and keeps every tensor found in it).
 */
import * as tf from '@tensorflow/tfjs';

export function tidyObject<T>(fn: () => T): T {
  // as unknown as (twice): tidy walks and keeps tensors in any object, but its TensorContainer type admits no optional or null field.
  return tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as T;
}
