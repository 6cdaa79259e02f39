/*
 * heap_kernels.node: kernels that compute on tfjs's wasm heap from native code.
 *
 * tfjs's wasm backend keeps every tensor in one WebAssembly memory. These kernels are handed
 * a Float32Array over that memory and the offsets (in floats) of their operands and of
 * outputs the backend has already allocated, and work in place: nothing is copied in or out.
 * src/compute/native-kernels.ts loads the addon and calls them; where it is not built the
 * project uses the wasm backend's own kernels.
 *
 *   sgemmBatch(...)   matrix products on OpenBLAS (matmul.c)
 *   setThreads(n)     OpenBLAS's thread count (process-wide; native-kernels.ts sets 1 once)
 *   config()          OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ..."
 *   adamUpdate(...)   one weight's Adam update (adam.c)
 *   packPanels(...), panelMatMul(...)   products of a few rows with a weight packed once (panels.c)
 *   attentionScores(...), attentionContext(...) and their backward passes   a time step's soft attention (attention.c)
 *
 * Offsets and sizes are checked against the heap's length before anything is written.
 */
#include <stdio.h>

#include "heap.h"

static bool fail(napi_env env, const char *kernel, const char *what, bool range) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", kernel, what);
  if (range) napi_throw_range_error(env, NULL, message);
  else napi_throw_type_error(env, NULL, message);
  return false;
}

bool read_args(napi_env env, napi_callback_info info, const char *kernel, napi_value *argv, size_t count) {
  size_t argc = count;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != count) {
    char what[64];
    snprintf(what, sizeof what, "expected %zu arguments", count);
    return fail(env, kernel, what, false);
  }
  return true;
}

bool read_heap(napi_env env, const char *kernel, napi_value value, heap_t *heap) {
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float32_array) {
    return fail(env, kernel, "the heap must be a Float32Array", false);
  }
  heap->data = (float *)data;
  heap->length = (int64_t)length;
  return true;
}

bool read_int(napi_env env, const char *kernel, napi_value value, int64_t *out) {
  return napi_get_value_int64(env, value, out) == napi_ok || fail(env, kernel, "expected a whole number", false);
}

bool read_double(napi_env env, const char *kernel, napi_value value, double *out) {
  return napi_get_value_double(env, value, out) == napi_ok || fail(env, kernel, "expected a number", false);
}

bool read_bool(napi_env env, const char *kernel, napi_value value, bool *out) {
  return napi_get_value_bool(env, value, out) == napi_ok || fail(env, kernel, "expected a boolean", false);
}

bool in_heap(napi_env env, const char *kernel, const heap_t *heap, int64_t offset, int64_t count) {
  if (offset >= 0 && count >= 0 && offset + count <= heap->length) return true;
  return fail(env, kernel, "an operand lies outside the heap", true);
}

bool holds_floats(napi_env env, const char *kernel, const heap_t *array, const char *name, int64_t needed) {
  if (needed >= 0 && array->length >= needed) return true;
  char message[160];
  snprintf(message, sizeof message, "%s: %s holds %lld floats, needs %lld", kernel, name, (long long)array->length, (long long)needed);
  napi_throw_range_error(env, NULL, message);
  return false;
}

static bool export_function(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value value;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &value) == napi_ok &&
         napi_set_named_property(env, exports, name, value) == napi_ok;
}

NAPI_MODULE_INIT() {
  if (!export_function(env, exports, "sgemmBatch", sgemm_batch) || !export_function(env, exports, "setThreads", set_threads) ||
      !export_function(env, exports, "config", blas_config) || !export_function(env, exports, "adamUpdate", adam_update) ||
      !export_function(env, exports, "packPanels", pack_panels) || !export_function(env, exports, "panelMatMul", panel_mat_mul) ||
      !export_function(env, exports, "attentionContext", attention_context) ||
      !export_function(env, exports, "attentionContextBackward", attention_context_backward) ||
      !export_function(env, exports, "attentionScores", attention_scores) ||
      !export_function(env, exports, "attentionScoresBackward", attention_scores_backward)) {
    return NULL;
  }
  return exports;
}
