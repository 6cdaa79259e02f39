/**
 * A trained linear projection in front of frozen word vectors: W-wide vectors (BERT's 768,
 * or 1024 for BERT-large) become E-wide decoder inputs, `x W + b`.
 *
 *   const words = new ProjectedWordInputs(bertInputs, { dim: 512, seed: 1 });
 *   words.embedPrefix(inputs);   // [T, B, 512]
 *
 * The decoder's own input matrix (W_x, [E, 4H]) already maps its inputs linearly, so the
 * projection only factorises that map (rank <= E); it saves weights when W is much larger
 * than E and keeps the decoder's shape the same across word inputs. Initialised as a PyTorch
 * Linear layer (uniform in ±1/sqrt(W)). Causality and preparation are the inner inputs'.
 *
 * Dimensions: T steps, B captions (or beams), W inner width, E = `dim`.
 */
import * as tf from '@tensorflow/tfjs';

import type { Seed } from '../common/random';
import { defaultLimit, uniformVariable } from '../compute/init';
import type { WordInputs } from './word-inputs';

export interface ProjectionOptions {
  /** Output size E. */
  dim: number;
  /** Seed of the initial weights. */
  seed: Seed;
}

export class ProjectedWordInputs implements WordInputs {
  readonly id: string;
  readonly dim: number;
  readonly causal: boolean;
  readonly variables: ReadonlyMap<string, tf.Variable>;
  readonly prepareLast?: (prefixes: readonly (readonly number[])[]) => Promise<void>;
  readonly prefetch?: (captions: readonly ArrayLike<number>[]) => Promise<void>;
  private readonly kernel: tf.Variable; // [W, E]
  private readonly bias: tf.Variable; // [E]

  constructor(
    readonly inner: WordInputs,
    options: ProjectionOptions,
  ) {
    const { dim: E } = options;
    if (!Number.isInteger(E) || E < 1) throw new Error(`ProjectedWordInputs: dim must be a whole number >= 1, got ${E}`);
    const W = inner.dim;
    this.dim = E;
    this.causal = inner.causal;
    this.id = `${inner.id}>linear${E}`;
    const limit = defaultLimit(W);
    this.kernel = uniformVariable([W, E], limit, options.seed, 'projection.kernel'); // [W, E]
    this.bias = uniformVariable([E], limit, options.seed, 'projection.bias'); // [E]
    this.variables = new Map([...inner.variables, ['projection.kernel', this.kernel], ['projection.bias', this.bias]]);
    if (inner.prepareLast) this.prepareLast = (prefixes) => inner.prepareLast!(prefixes);
    if (inner.prefetch) this.prefetch = (captions) => inner.prefetch!(captions);
  }

  embedPrefix(inputs: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [T, B] = inputs.shape;
      const vectors = this.inner.embedPrefix(inputs).reshape([T * B, this.inner.dim]); // [T*B, W]
      return vectors.matMul(this.kernel).add(this.bias).reshape([T, B, this.dim]) as tf.Tensor3D; // [T, B, E]
    });
  }

  embedLast(prefixes: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.inner.embedLast(prefixes).matMul(this.kernel).add(this.bias) as tf.Tensor2D); // [B, E]
  }

  /** Frees the projection and the inner inputs. */
  dispose(): void {
    this.kernel.dispose();
    this.bias.dispose();
    this.inner.dispose();
  }
}
