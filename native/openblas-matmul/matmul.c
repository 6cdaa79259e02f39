/*
 * The matrix products of tfjs's wasm backend, computed by OpenBLAS on the wasm heap.
 *
 * tfjs's wasm backend keeps every tensor in one WebAssembly memory; its own matMul
 * (XNNPACK compiled to wasm SIMD) reaches about 20-30 GFLOP/s on one core here, native
 * OpenBLAS about 60-100 (bench/README.md). src/compute/native-matmul.ts hands this addon a
 * Float32Array over that memory and the offsets of the operands and of an output tensor the
 * backend has allocated; the product is written in place, so nothing is copied.
 *
 *   sgemmBatch(heap, batch, a, aStride, b, bStride, c, m, n, k, transposeA, transposeB)
 *     for i < batch: C_i [m, n] = op(A_i) [m, k] x op(B_i) [k, n], row-major, where
 *     A_i starts at heap[a + i * aStride] (aStride 0: one A for all), likewise B_i, and
 *     C_i at heap[c + i * m * n]; op(X) is X or X^T as the flag says.
 *   setThreads(n)     OpenBLAS's thread count (process-wide).
 *   config()          OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ...".
 *
 * Offsets and sizes are in floats and checked against the heap's length before any write.
 */
#include <node_api.h>
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>

extern char *openblas_get_config(void);

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "openblas_matmul: " #call " failed"); return NULL; } } while (0)

static napi_value sgemm_batch(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 12) { napi_throw_type_error(env, NULL, "sgemmBatch: expected 12 arguments"); return NULL; }

  napi_typedarray_type type;
  size_t length;
  void *data;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL));
  if (type != napi_float32_array) { napi_throw_type_error(env, NULL, "sgemmBatch: heap must be a Float32Array"); return NULL; }

  int64_t v[9]; /* batch, a, aStride, b, bStride, c, m, n, k */
  for (int i = 0; i < 9; i++) CHECK(napi_get_value_int64(env, argv[i + 1], &v[i]));
  bool transpose_a, transpose_b;
  CHECK(napi_get_value_bool(env, argv[10], &transpose_a));
  CHECK(napi_get_value_bool(env, argv[11], &transpose_b));
  const int64_t batch = v[0], a = v[1], a_stride = v[2], b = v[3], b_stride = v[4], c = v[5];
  const int64_t m = v[6], n = v[7], k = v[8];

  const int64_t len = (int64_t)length;
  if (batch < 1 || m < 1 || n < 1 || k < 1 || a < 0 || b < 0 || c < 0 || a_stride < 0 || b_stride < 0 ||
      a + (batch - 1) * a_stride + m * k > len || b + (batch - 1) * b_stride + k * n > len ||
      c + batch * m * n > len || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) {
    napi_throw_range_error(env, NULL, "sgemmBatch: an operand lies outside the heap or a size is not positive");
    return NULL;
  }

  float *heap = (float *)data;
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, 1.0f,
                heap + a + i * a_stride, transpose_a ? (int)m : (int)k,
                heap + b + i * b_stride, transpose_b ? (int)k : (int)n,
                0.0f, heap + c + i * m * n, (int)n);
  }
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t threads;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || napi_get_value_int32(env, argv[0], &threads) != napi_ok || threads < 1) {
    napi_throw_range_error(env, NULL, "setThreads: expected a positive integer");
    return NULL;
  }
  openblas_set_num_threads(threads);
  return NULL;
}

static napi_value config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value text;
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &text));
  return text;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "sgemmBatch", NAPI_AUTO_LENGTH, sgemm_batch, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "sgemmBatch", fn) != napi_ok ||
      napi_create_function(env, "setThreads", NAPI_AUTO_LENGTH, set_threads, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "setThreads", fn) != napi_ok ||
      napi_create_function(env, "config", NAPI_AUTO_LENGTH, config, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "config", fn) != napi_ok) {
    return NULL;
  }
  return exports;
}
