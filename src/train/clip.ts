/**
 * Gradient clipping as train.clip sets it (the reference code's `clip_grad_norm_` or
 * `clamp`), expressed as Adam's clip (compute/adam.ts: g -> clamp(scale g, -limit, limit)):
 * by value, a limit; by global norm, a scale min(1, max norm / norm) from the norm of all the
 * step's gradients together, which only this mode needs (so `norm` is asked for only then:
 * data-parallel workers sum their parts of it first, src/train/data-parallel.ts).
 */
import * as tf from '@tensorflow/tfjs';

import { type Gradient, type GradientClip, NO_CLIP } from '../compute/adam';
import { CLIP_MODES, type TrainConfig } from '../config';

export type ClipSetting = TrainConfig['clip'];

/** This step's clip under `setting`; `norm()` gives the global norm of its gradients (by norm only). */
export function gradientClip(setting: ClipSetting, norm: () => number): GradientClip {
  const { mode, value } = setting;
  switch (mode) {
    case 'none':
      return NO_CLIP;
    case 'value':
      return { scale: 1, limit: value };
    case 'norm': {
      const n = norm();
      return { scale: n > value ? value / n : 1, limit: Infinity }; // a NaN norm leaves the gradients as they are (NaN reaches the weights, as in PyTorch)
    }
    default: {
      const never: never = mode;
      throw new Error(`clip mode ${JSON.stringify(never)}; use one of ${CLIP_MODES.join(', ')}`);
    }
  }
}

/** The global norm of some gradients: the root of the sum of all their squares. */
export function globalNorm(grads: ReadonlyMap<string, Gradient>): number {
  const squares = (g: Gradient) => (g instanceof tf.Tensor ? g : tf.tensor1d(g)).square().sum();
  return tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map(squares))).dataSync()[0]);
}
