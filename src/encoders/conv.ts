/**
 * A 'same'-padded conv2d whose gradients are forward convolutions.
 *
 * On the wasm backend (tfjs 4.22) the input gradient of a convolution
 * (`Conv2DBackpropInput`) runs as a plain scalar loop: measured here, 240 ms of a 530 ms
 * training step of the small CNN went into it. Both gradients are convolutions in
 * disguise, and the forward Conv2D kernel is fast (XNNPACK):
 *
 *   dx = conv(dilate(dy, stride) padded, W flipped with in/out channels swapped), stride 1
 *   dW = conv(x^T [Ci, H, W, B], dy^T [OH, OW, B, Co] dilated by the stride)^T
 *
 * `conv2dSame` uses them on wasm and tf.conv2d's own gradients elsewhere; both match
 * tf.conv2d's (test/encoders/conv.test.ts, against the cpu backend).
 */
import * as tf from '@tensorflow/tfjs';

/** Padding of 'same' along one axis: [before, after], as TensorFlow computes it. */
function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Pads (positive) or crops (negative) the two spatial axes of x [B, H, W, C]. */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  let y = x;
  const [cropTop, cropBottom, cropLeft, cropRight] = [top, bottom, left, right].map((v) => Math.max(0, -v));
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    const [B, H, W, C] = y.shape;
    y = y.slice([0, cropTop, cropLeft, 0], [B, H - cropTop - cropBottom, W - cropLeft - cropRight, C]);
  }
  const [pt, pb, pl, pr] = [top, bottom, left, right].map((v) => Math.max(0, v));
  return pt + pb + pl + pr > 0 ? (y.pad([[0, 0], [pt, pb], [pl, pr], [0, 0]]) as tf.Tensor4D) : y;
}

/**
 * One axis of the input gradient split into `stride` phases (sub-pixel form): input position
 * i = s*m + r receives dy[m + dlo + j] * W[taps[j][r]] summed over j (taps -1: no term).
 */
function phaseTaps(kernel: number, stride: number, padBefore: number): { dlo: number; taps: number[][] } {
  let dlo = Infinity;
  let dhi = -Infinity;
  for (let r = 0; r < stride; r++) {
    for (let k = 0; k < kernel; k++) {
      if ((r + padBefore - k) % stride !== 0) continue;
      const d = (r + padBefore - k) / stride;
      dlo = Math.min(dlo, d);
      dhi = Math.max(dhi, d);
    }
  }
  const taps = Array.from({ length: dhi - dlo + 1 }, (_, j) =>
    Array.from({ length: stride }, (_, r) => {
      const k = r + padBefore - stride * (j + dlo);
      return k >= 0 && k < kernel ? k : -1;
    }),
  );
  return { dlo, taps };
}

/**
 * The input gradient of a 'same' conv as one stride-1 forward conv: dy [B, OH, OW, Co],
 * w [k, k, Ci, Co] -> dx [B, H, W, Ci]. The s x s output phases are computed as s*s*Ci
 * channels of a conv of dy with sub-kernels of w, then interleaved, so no multiplication
 * by inserted zeros is done.
 */
export function convInputGradient(dy: tf.Tensor4D, w: tf.Tensor4D, inputShape: [number, number, number, number], stride: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, W, Ci] = inputShape;
    const [kh, kw, , Co] = w.shape;
    const [, OH, OW] = dy.shape;
    const s = stride;
    const y = phaseTaps(kh, s, samePadding(H, kh, s)[0]);
    const x = phaseTaps(kw, s, samePadding(W, kw, s)[0]);
    const [Jy, Jx] = [y.taps.length, x.taps.length];
    const [My, Mx] = [Math.ceil(H / s), Math.ceil(W / s)];
    // dy rows dlo .. M-1+dhi (zero outside 0..OH-1).
    const padded = padOrCrop(dy, -y.dlo, My - 1 + y.dlo + Jy - 1 - (OH - 1), -x.dlo, Mx - 1 + x.dlo + Jx - 1 - (OW - 1)); // [B, My+Jy-1, Mx+Jx-1, Co]
    // Sub-kernels w' [Jy, Jx, Co, s*s*Ci] (zeros where a phase has no tap), arranged on the
    // host: the weights are small, and wasm's gather and 6-d transpose are slow loops.
    const wv = w.dataSync(); // [kh, kw, Ci, Co]
    const sv = new Float32Array(Jy * Jx * Co * s * s * Ci);
    for (let jy = 0; jy < Jy; jy++) {
      for (let jx = 0; jx < Jx; jx++) {
        for (let ry = 0; ry < s; ry++) {
          const ky = y.taps[jy][ry];
          if (ky < 0) continue;
          for (let rx = 0; rx < s; rx++) {
            const kx = x.taps[jx][rx];
            if (kx < 0) continue;
            for (let ci = 0; ci < Ci; ci++) {
              const src = ((ky * kw + kx) * Ci + ci) * Co;
              const dst = (jy * Jx + jx) * Co * s * s * Ci + (ry * s + rx) * Ci + ci;
              for (let co = 0; co < Co; co++) sv[dst + co * s * s * Ci] = wv[src + co];
            }
          }
        }
      }
    }
    const sub = tf.tensor4d(sv, [Jy, Jx, Co, s * s * Ci]); // [Jy, Jx, Co, s*s*Ci]
    const phases = tf.conv2d(padded, sub, 1, 'valid'); // [B, My, Mx, s*s*Ci]
    // Interleave the phases (depthToSpace, written as a transpose: wasm's DepthToSpace is a slow loop).
    const full = (s === 1 ? phases : phases.reshape([B, My, Mx, s, s, Ci]).transpose([0, 1, 3, 2, 4, 5]).reshape([B, My * s, Mx * s, Ci])) as tf.Tensor4D; // [B, My*s, Mx*s, Ci]
    return full.shape[1] === H && full.shape[2] === W ? full : full.slice([0, 0, 0, 0], [B, H, W, Ci]); // [B, H, W, Ci]
  });
}

/** The filter gradient of a 'same' conv as a forward conv: x [B, H, W, Ci], dy [B, OH, OW, Co] -> [k, k, Ci, Co]. */
export function convFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, kernel: [number, number], stride: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, H, W] = x.shape;
    const [kh, kw] = kernel;
    const [pt, pb] = samePadding(H, kh, stride);
    const [pl, pr] = samePadding(W, kw, stride);
    const xT = x.transpose([3, 1, 2, 0]) as tf.Tensor4D; // [Ci, H, W, B]
    const dyT = dy.transpose([1, 2, 0, 3]) as tf.Tensor4D; // [OH, OW, B, Co]
    const padded = xT.pad([[0, 0], [pt, pb], [pl, pr], [0, 0]]) as tf.Tensor4D; // [Ci, H+pt+pb, W+pl+pr, B]
    const full = tf.conv2d(padded, dyT, 1, 'valid', 'NHWC', [stride, stride]); // [Ci, >= kh, >= kw, Co]
    return full.slice([0, 0, 0, 0], [-1, kh, kw, -1]).transpose([1, 2, 0, 3]) as tf.Tensor4D; // [kh, kw, Ci, Co]
  });
}

type ConvFn = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;
const fastConvs = new Map<string, ConvFn>();

/**
 * A 'same' conv of one stride with the forward-convolution gradients (one custom gradient
 * per stride). Without `inputGradient` the input is treated as a constant (the first layer
 * reads pixels), which saves the dx convolution.
 */
function fastConv(stride: number, inputGradient: boolean): ConvFn {
  const key = `${stride}:${inputGradient}`;
  let fn = fastConvs.get(key);
  if (fn) return fn;
  if (inputGradient) {
    const custom = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x, w, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
      save([x, w]);
      return {
        value: tf.conv2d(x, w, stride, 'same'),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const [sx, sw] = saved as [tf.Tensor4D, tf.Tensor4D];
          const g = dy as tf.Tensor4D;
          return [convInputGradient(g, sw, sx.shape, stride), convFilterGradient(sx, g, [sw.shape[0], sw.shape[1]], stride)];
        },
      };
    });
    fn = (x, w) => custom(x, w) as tf.Tensor4D;
  } else {
    fn = (x, w) => {
      const custom = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [wt, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
        save([wt]);
        return {
          value: tf.conv2d(x, wt, stride, 'same'),
          gradFunc: (dy: tf.Tensor | tf.Tensor[]) => [convFilterGradient(x, dy as tf.Tensor4D, [w.shape[0], w.shape[1]], stride)],
        };
      });
      return custom(w) as tf.Tensor4D;
    };
  }
  fastConvs.set(key, fn);
  return fn;
}

/**
 * conv2d with 'same' padding: x [B, H, W, Ci], w [k, k, Ci, Co] -> [B, ceil(H/s), ceil(W/s), Co].
 * On wasm its gradients are forward convolutions (see above).
 */
export function conv2dSame(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, options: { inputGradient?: boolean } = {}): tf.Tensor4D {
  if (tf.getBackend() !== 'wasm') return tf.conv2d(x, w, stride, 'same');
  return fastConv(stride, options.inputGradient ?? true)(x, w);
}
