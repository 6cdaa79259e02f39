/*
 * Matrix products on OpenBLAS, on the wasm heap. XNNPACK, which tfjs's wasm backend runs its
 * products in, reaches about 27-30 GFLOP/s on one core of this machine, OpenBLAS about 58-97
 * (bench/README.md, issue #16).
 *
 *   sgemmBatch(heap, batch, a, aStride, b, bStride, c, m, n, k, transposeA, transposeB)
 *     for i < batch: C_i [m, n] = op(A_i) [m, k] x op(B_i) [k, n], row-major, where A_i
 *     starts at heap[a + i * aStride] (aStride 0: one A for all), likewise B_i, and C_i at
 *     heap[c + i * m * n]; op(X) is X or X^T as the flag says.
 */
#include <cblas.h>
#include <limits.h>

#include "heap.h"

extern char *openblas_get_config(void);

napi_value sgemm_batch(napi_env env, napi_callback_info info) {
  const char *kernel = "sgemmBatch";
  napi_value argv[12];
  heap_t heap;
  int64_t v[9]; /* batch, a, aStride, b, bStride, c, m, n, k */
  bool transpose_a, transpose_b;
  if (!read_args(env, info, kernel, argv, 12) || !read_heap(env, kernel, argv[0], &heap)) return NULL;
  for (int i = 0; i < 9; i++) {
    if (!read_int(env, kernel, argv[i + 1], &v[i])) return NULL;
  }
  if (!read_bool(env, kernel, argv[10], &transpose_a) || !read_bool(env, kernel, argv[11], &transpose_b)) return NULL;
  const int64_t batch = v[0], a = v[1], a_stride = v[2], b = v[3], b_stride = v[4], c = v[5];
  const int64_t m = v[6], n = v[7], k = v[8];
  if (batch < 1 || m < 1 || n < 1 || k < 1 || m > INT_MAX || n > INT_MAX || k > INT_MAX || a_stride < 0 || b_stride < 0) {
    napi_throw_range_error(env, NULL, "sgemmBatch: sizes must be positive (strides not negative)");
    return NULL;
  }
  if (!in_heap(env, kernel, &heap, a, (batch - 1) * a_stride + m * k) || !in_heap(env, kernel, &heap, b, (batch - 1) * b_stride + k * n) ||
      !in_heap(env, kernel, &heap, c, batch * m * n)) {
    return NULL;
  }
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, 1.0f,
                heap.data + a + i * a_stride, transpose_a ? (int)m : (int)k,
                heap.data + b + i * b_stride, transpose_b ? (int)k : (int)n,
                0.0f, heap.data + c + i * m * n, (int)n);
  }
  return NULL;
}

napi_value set_threads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t threads;
  if (!read_args(env, info, "setThreads", argv, 1) || !read_int(env, "setThreads", argv[0], &threads)) return NULL;
  if (threads < 1 || threads > 1024) {
    napi_throw_range_error(env, NULL, "setThreads: expected a whole number from 1 to 1024");
    return NULL;
  }
  openblas_set_num_threads((int)threads);
  return NULL;
}

napi_value blas_config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value text;
  if (napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &text) != napi_ok) return NULL;
  return text;
}
