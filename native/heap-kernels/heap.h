/*
 * Shared by the heap kernels (addon.c, matmul.c, adam.c, panels.c, attention.c): reading a call's arguments.
 * Each reader throws a JavaScript error naming the kernel and returns false on bad input.
 */
#ifndef HEAP_KERNELS_HEAP_H
#define HEAP_KERNELS_HEAP_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

/** A Float32Array (the wasm heap; a host array for panels.c and attention.c, shared memory for adam.c): its first float and its length in floats. */
typedef struct {
  float *data;
  int64_t length;
} heap_t;

/** The call's arguments: exactly `count` of them into `argv`. */
bool read_args(napi_env env, napi_callback_info info, const char *kernel, napi_value *argv, size_t count);
bool read_heap(napi_env env, const char *kernel, napi_value value, heap_t *heap);
bool read_int(napi_env env, const char *kernel, napi_value value, int64_t *out);
bool read_double(napi_env env, const char *kernel, napi_value value, double *out);
bool read_bool(napi_env env, const char *kernel, napi_value value, bool *out);
/** Whether floats [offset, offset + count) lie in the heap (throws a RangeError if not). */
bool in_heap(napi_env env, const char *kernel, const heap_t *heap, int64_t offset, int64_t count);
/** Whether `array` holds at least `needed` floats (a RangeError naming it, `name`, if not; a negative `needed`, an overflowed size, never fits). */
bool holds_floats(napi_env env, const char *kernel, const heap_t *array, const char *name, int64_t needed);

napi_value sgemm_batch(napi_env env, napi_callback_info info);
napi_value set_threads(napi_env env, napi_callback_info info);
napi_value blas_config(napi_env env, napi_callback_info info);
napi_value adam_update(napi_env env, napi_callback_info info);
napi_value pack_panels(napi_env env, napi_callback_info info);
napi_value panel_mat_mul(napi_env env, napi_callback_info info);
napi_value attention_context(napi_env env, napi_callback_info info);
napi_value attention_context_backward(napi_env env, napi_callback_info info);
napi_value attention_scores(napi_env env, napi_callback_info info);
napi_value attention_scores_backward(napi_env env, napi_callback_info info);

#endif
