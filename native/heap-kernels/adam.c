/*
 * One weight's Adam update on the wasm heap, as src/compute/adam.ts defines it (PyTorch's
 * placement of epsilon), in float arithmetic (the same formula as adam.ts's tfjs ops; the
 * last multiply and divide come in another order, so the two differ by float rounding),
 * from the gradient clipped as the trainer asks:
 *
 *   g = clamp(scale g, -limit, limit)         (scale: clip by global norm; limit: clip by value)
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  out = w - step m / (sqrt(v) / root2 + eps)
 *
 * with step = lr / (1 - b1^t) and root2 = sqrt(1 - b2^t). The gradient is read from
 * `gradients` at float offset g: the heap itself (a gradient tensor), or a host array (the
 * data-parallel workers' summed gradients in shared memory, which need not become a tensor
 * first). The moments are updated in place (the optimiser's own tensors); the new weight goes
 * into `out`, a tensor the backend has allocated (weights stay immutable), or nowhere when
 * `writeWeight` is false (lr 0). One pass that the compiler vectorises, where tfjs runs a
 * clip and ten kernels and makes nine intermediate tensors per weight.
 *
 *   adamUpdate(heap, w, m, v, out, n, gradients, g, scale, limit, beta1, beta2, step, root2, epsilon, writeWeight)
 */
#include <math.h>

#include "heap.h"

napi_value adam_update(napi_env env, napi_callback_info info) {
  const char *kernel = "adamUpdate";
  napi_value argv[16];
  heap_t heap, gradients;
  int64_t at[6]; /* w, m, v, out, n, then g (the gradient's offset in `gradients`) */
  double d[7];   /* scale, limit, beta1, beta2, step, root2, epsilon */
  bool write_weight;
  if (!read_args(env, info, kernel, argv, 16) || !read_heap(env, kernel, argv[0], &heap) || !read_heap(env, kernel, argv[6], &gradients)) return NULL;
  for (int i = 0; i < 5; i++) {
    if (!read_int(env, kernel, argv[i + 1], &at[i])) return NULL;
  }
  if (!read_int(env, kernel, argv[7], &at[5])) return NULL;
  for (int i = 0; i < 7; i++) {
    if (!read_double(env, kernel, argv[i + 8], &d[i])) return NULL;
  }
  if (!read_bool(env, kernel, argv[15], &write_weight)) return NULL;
  const int64_t n = at[4];
  for (int i = 0; i < 4; i++) {
    if (!in_heap(env, kernel, &heap, at[i], n)) return NULL;
  }
  if (!in_heap(env, kernel, &gradients, at[5], n)) return NULL;
  const float *restrict g = gradients.data + at[5];
  const float *restrict w = heap.data + at[0];
  float *restrict m = heap.data + at[1];
  float *restrict v = heap.data + at[2];
  float *restrict out = heap.data + at[3];
  const float scale = (float)d[0], limit = (float)d[1];
  const float beta1 = (float)d[2], beta2 = (float)d[3], step = (float)d[4], root2 = (float)d[5], epsilon = (float)d[6];
  const float keep1 = (float)(1.0 - d[2]), keep2 = (float)(1.0 - d[3]); /* in double first, as tfjs rounds 1 - b to float32 */
  for (int64_t i = 0; i < n; i++) {
    const float scaled = g[i] * scale;                                                      /* scale 1 leaves g as it is */
    const float clipped = scaled < -limit ? -limit : scaled > limit ? limit : scaled; /* a NaN stays NaN */
    const float m1 = m[i] * beta1 + clipped * keep1;
    const float v1 = v[i] * beta2 + clipped * clipped * keep2;
    m[i] = m1;
    v[i] = v1;
    if (write_weight) out[i] = w[i] - step * m1 / (sqrtf(v1) / root2 + epsilon);
  }
  return NULL;
}
