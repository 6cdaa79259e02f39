/**
 * What the decoder reads at each step: the one interface through which word vectors reach
 * it, so that a learned table (here) and BERT vectors (issue #7) plug in the same way.
 *
 * Dimensions: B captions (or beams), T steps, E = `dim`.
 *
 *   const words = new LearnedEmbedding({ vocabularySize: V, dim: 64, seed: 1 });
 *   words.embedPrefix(inputs);   // teacher forcing: [T, B] ids -> [T, B, E]
 *   words.embedLast(prefixes);   // decoding: [B, t] ids -> [B, E], the last word's vector
 *
 * Vectors made outside tfjs (BERT) cannot be computed inside a synchronous `tidy`: such
 * inputs are prepared ahead, the teacher-forcing ones once before training and the decoding
 * ones by `prepareLast`, which the searches await before each step.
 *
 * Teacher forcing is **time-major**: `inputs[t, b]` is the word caption b reads at step t
 * (`<start>`, w1, …, w_{T-1}); time-major rows let the decoder take step t's rows as one
 * contiguous slice (FACTS.md §4: no strided copies on the hot path).
 *
 * `causal` says whether the vector of position t depends only on words 0..t. A learned
 * table is trivially causal. A contextual model (BERT over the whole ground-truth caption,
 * as the report did) is not: position t then sees the words it is asked to predict during
 * teacher forcing, and at decoding time only the prefix exists. `embedLast` always gets the
 * prefix alone, so free-running decoding is honest whatever `causal` says.
 */
import type * as tf from '@tensorflow/tfjs';

export interface WordInputs {
  /** Identifies the vectors for run ids and caches, e.g. `learned:v74:e64`. */
  readonly id: string;
  /** Vector size E. */
  readonly dim: number;
  /** Whether position t depends only on words 0..t in `embedPrefix`. */
  readonly causal: boolean;
  /** Weights trained with the decoder, by name (empty for frozen vectors). */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** Teacher forcing: ids [T, B] int32 (time-major) -> vectors [T, B, E]. */
  embedPrefix(inputs: tf.Tensor2D): tf.Tensor3D;
  /** Decoding: prefixes [B, t] int32 (t >= 1, `<start>` first) -> the vector of each row's last word given its prefix, [B, E]. */
  embedLast(prefixes: tf.Tensor2D): tf.Tensor2D;
  /**
   * Optional: computes ahead what `embedLast` will be asked for (vectors made outside tfjs,
   * e.g. BERT through ONNX Runtime). Decoding awaits it before every step, with the rows'
   * prefixes ([B][t] ids, `<start>` first).
   */
  prepareLast?(prefixes: readonly (readonly number[])[]): Promise<void>;
  /**
   * Optional: reads ahead the teacher-forcing inputs of captions (ids) kept on disk, so that
   * `embedPrefix` finds them in memory; training asks for the next batch's captions while
   * the current step runs.
   */
  prefetch?(captions: readonly ArrayLike<number>[]): Promise<void>;
  /** Frees the weights. */
  dispose(): void;
}
