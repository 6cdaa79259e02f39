/*
 * One Adam update of some values of a weight, as src/compute/adam.ts defines it (PyTorch's
 * placement of epsilon), in float arithmetic (the same formula as adam.ts's tfjs ops; the
 * last multiply and divide come in another order, so the two differ by float rounding),
 * from the gradient clipped as the trainer asks:
 *
 *   g = clamp(scale g, -limit, limit)         (scale: clip by global norm; limit: clip by value)
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  out = w - step m / (sqrt(v) / root2 + eps)
 *
 * with step = lr / (1 - b1^t) and root2 = sqrt(1 - b2^t). Every operand is a Float32Array
 * view, wherever it lies: the weight and the moments in the wasm heap (a lone trainer's
 * tensors), or the moments, the gradients and the new values in shared memory (data-parallel
 * workers, each updating its share of the values: src/train/data-parallel.ts). The gradient
 * is the sum of `slots` arrays `stride` floats apart, added in slot order (the workers'
 * gradient slots), so no summed copy is written first. The
 * moments are updated in place; the new weight goes into `out`, or nowhere when
 * `writeWeight` is false (lr 0). One pass over the values (a chunk at a time: the slots' sum,
 * then the update, each a loop the compiler vectorises), where tfjs runs a clip and ten
 * kernels and makes nine intermediate tensors per weight.
 *
 *   adamUpdate(w, m, v, out, gradients, slots, stride, scale, limit, beta1, beta2, step, root2, epsilon, writeWeight)
 *     n = w.length values; m, v (and out when written) hold at least n; gradients at least (slots - 1) stride + n
 */
#include <math.h>

#include "heap.h"

#define CHUNK 1024 /* values summed and updated at a time (4 KB of sums on the stack) */

napi_value adam_update(napi_env env, napi_callback_info info) {
  const char *kernel = "adamUpdate";
  napi_value argv[15];
  heap_t w_array, m_array, v_array, out_array, gradients;
  int64_t slots, stride;
  double d[7]; /* scale, limit, beta1, beta2, step, root2, epsilon */
  bool write_weight;
  if (!read_args(env, info, kernel, argv, 15) || !read_heap(env, kernel, argv[0], &w_array) || !read_heap(env, kernel, argv[1], &m_array) ||
      !read_heap(env, kernel, argv[2], &v_array) || !read_heap(env, kernel, argv[3], &out_array) || !read_heap(env, kernel, argv[4], &gradients) ||
      !read_int(env, kernel, argv[5], &slots) || !read_int(env, kernel, argv[6], &stride)) {
    return NULL;
  }
  for (int i = 0; i < 7; i++) {
    if (!read_double(env, kernel, argv[i + 7], &d[i])) return NULL;
  }
  if (!read_bool(env, kernel, argv[14], &write_weight)) return NULL;
  const int64_t n = w_array.length;
  if (slots < 1 || slots > 4096 || stride < 0 || stride > ((int64_t)1 << 40)) {
    napi_throw_range_error(env, NULL, "adamUpdate: slots must be 1..4096 and stride 0..2^40");
    return NULL;
  }
  if (!holds_floats(env, kernel, &m_array, "m", n) || !holds_floats(env, kernel, &v_array, "v", n) ||
      (write_weight && !holds_floats(env, kernel, &out_array, "out", n)) || !holds_floats(env, kernel, &gradients, "gradients", (slots - 1) * stride + n)) {
    return NULL;
  }
  const float scale = (float)d[0], limit = (float)d[1];
  const float beta1 = (float)d[2], beta2 = (float)d[3], step = (float)d[4], root2 = (float)d[5], epsilon = (float)d[6];
  const float keep1 = (float)(1.0 - d[2]), keep2 = (float)(1.0 - d[3]); /* in double first, as tfjs rounds 1 - b to float32 */
  /* A chunk at a time: the gradient summed over the slots in slot order, then the update; two simple loops that vectorise. */
  float sum[CHUNK];
  for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
    const int64_t count = n - i0 < CHUNK ? n - i0 : CHUNK;
    const float *restrict g = gradients.data + i0;
    const float *restrict w = w_array.data + i0;
    float *restrict m = m_array.data + i0;
    float *restrict v = v_array.data + i0;
    float *restrict out = out_array.data + i0;
    for (int64_t i = 0; i < count; i++) sum[i] = g[i];
    for (int64_t s = 1; s < slots; s++) {
      for (int64_t i = 0; i < count; i++) sum[i] += g[s * stride + i];
    }
    for (int64_t i = 0; i < count; i++) {
      const float scaled = sum[i] * scale;                                              /* scale 1 leaves g as it is */
      const float clipped = scaled < -limit ? -limit : scaled > limit ? limit : scaled; /* a NaN stays NaN */
      const float m1 = m[i] * beta1 + clipped * keep1;
      const float v1 = v[i] * beta2 + clipped * clipped * keep2;
      m[i] = m1;
      v[i] = v1;
      if (write_weight) out[i] = w[i] - step * m1 / (sqrtf(v1) / root2 + epsilon);
    }
  }
  return NULL;
}
