/*
 * One weight's Adam update on the wasm heap, as src/compute/adam.ts defines it (PyTorch's
 * placement of epsilon), in float arithmetic (the same formula as adam.ts's tfjs ops; the
 * last multiply and divide come in another order, so the two differ by float rounding):
 *
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  out = w - step m / (sqrt(v) / root2 + eps)
 *
 * with step = lr / (1 - b1^t) and root2 = sqrt(1 - b2^t). The moments are updated in place
 * (the optimiser's own tensors); the new weight goes into `out`, a tensor the backend has
 * allocated (weights stay immutable), or nowhere when `writeWeight` is false (lr 0). One pass
 * that the compiler vectorises, where tfjs runs ten kernels and makes eight intermediate
 * tensors per weight.
 *
 *   adamUpdate(heap, w, g, m, v, out, n, beta1, beta2, step, root2, epsilon, writeWeight)
 */
#include <math.h>

#include "heap.h"

napi_value adam_update(napi_env env, napi_callback_info info) {
  const char *kernel = "adamUpdate";
  napi_value argv[13];
  heap_t heap;
  int64_t at[6]; /* w, g, m, v, out, n */
  double d[5];   /* beta1, beta2, step, root2, epsilon */
  bool write_weight;
  if (!read_args(env, info, kernel, argv, 13) || !read_heap(env, kernel, argv[0], &heap)) return NULL;
  for (int i = 0; i < 6; i++) {
    if (!read_int(env, kernel, argv[i + 1], &at[i])) return NULL;
  }
  for (int i = 0; i < 5; i++) {
    if (!read_double(env, kernel, argv[i + 7], &d[i])) return NULL;
  }
  if (!read_bool(env, kernel, argv[12], &write_weight)) return NULL;
  const int64_t n = at[5];
  for (int i = 0; i < 5; i++) {
    if (!in_heap(env, kernel, &heap, at[i], n)) return NULL;
  }
  const float *restrict g = heap.data + at[1];
  float *restrict m = heap.data + at[2];
  float *restrict v = heap.data + at[3];
  const float beta1 = (float)d[0], beta2 = (float)d[1], step = (float)d[2], root2 = (float)d[3], epsilon = (float)d[4];
  const float keep1 = (float)(1.0 - d[0]), keep2 = (float)(1.0 - d[1]); /* in double first, as tfjs rounds 1 - b to float32 */
  for (int64_t i = 0; i < n; i++) {
    m[i] = m[i] * beta1 + g[i] * keep1;
    v[i] = v[i] * beta2 + g[i] * g[i] * keep2;
  }
  if (!write_weight) return NULL;
  const float *restrict w = heap.data + at[0];
  float *restrict out = heap.data + at[4];
  for (int64_t i = 0; i < n; i++) out[i] = w[i] - step * m[i] / (sqrtf(v[i]) / root2 + epsilon);
  return NULL;
}
