/**
 * A learned word table, as the reference code's `nn.Embedding`: one E-vector per id,
 * initialised uniformly in [-0.1, 0.1], trained with the decoder.
 *
 *   const words = new LearnedEmbedding({ vocabularySize: vocab.size, dim: 64, seed: 1 });
 *   words.embedPrefix(tf.tensor2d([[1, 1], [7, 9]], [2, 2], 'int32'));   // [T=2, B=2, 64]
 */
import * as tf from '@tensorflow/tfjs';

import type { Seed } from '../common/random';
import { uniformVariable } from '../compute/init';
import type { WordInputs } from './word-inputs';

export interface LearnedEmbeddingOptions {
  /** Number of ids V (special tokens included). */
  vocabularySize: number;
  /** Vector size E. */
  dim: number;
  /** Seed of the initial values. */
  seed: Seed;
  /** Initial values are uniform in ±initRange (default 0.1, as the reference code). */
  initRange?: number;
}

export class LearnedEmbedding implements WordInputs {
  readonly id: string;
  readonly dim: number;
  readonly causal = true;
  readonly variables: ReadonlyMap<string, tf.Variable>;
  private readonly table: tf.Variable; // [V, E]

  constructor(options: LearnedEmbeddingOptions) {
    const { vocabularySize: V, dim: E } = options;
    if (!Number.isInteger(V) || V < 1) throw new Error(`LearnedEmbedding: vocabularySize must be a whole number >= 1, got ${V}`);
    if (!Number.isInteger(E) || E < 1) throw new Error(`LearnedEmbedding: dim must be a whole number >= 1, got ${E}`);
    this.dim = E;
    this.id = `learned:v${V}:e${E}`;
    this.table = uniformVariable([V, E], options.initRange ?? 0.1, options.seed, 'embedding'); // [V, E]
    this.variables = new Map([['embedding', this.table]]);
  }

  embedPrefix(inputs: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [T, B] = inputs.shape;
      const flat = inputs.reshape([T * B]); // [T*B]
      return tf.gather(this.table, flat).reshape([T, B, this.dim]) as tf.Tensor3D; // [T, B, E]
    });
  }

  embedLast(prefixes: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [B, t] = prefixes.shape;
      const last = prefixes.slice([0, t - 1], [B, 1]).reshape([B]); // [B]
      return tf.gather(this.table, last) as tf.Tensor2D; // [B, E]
    });
  }

  dispose(): void {
    this.table.dispose();
  }
}
