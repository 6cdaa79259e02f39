/*
 * Products of a few rows with a weight that stays the same for many calls: the recurrent
 * products of teacher forcing (src/model/fused-recurrence.ts), where each of a batch's time
 * steps multiplies its B_t rows (16-32) by the same LSTM weights, forward and backward.
 *
 * OpenBLAS packs its right operand into its own layout on every call. With so few rows that
 * packing, a pass over the whole weight (4-8 MB at the `small` shape), costs about as much as
 * the product, and it does not shrink when data-parallel workers split the batch: two workers
 * with 16 rows each took 0.75-0.8x the time of one worker with 32 (bench/README.md, issue #16).
 * Here the weight is packed once per batch into panels of 16 columns, and each product reads
 * each panel once, straight through:
 *
 *   packPanels(source, rows, cols, transposed, panels)
 *     B = source [rows, cols] (transposed: its transpose, [cols, rows]), B is [K, N];
 *     panels [ceil(N / 16), K, 16] = B's columns 16 at a time, the last panel padded with 0
 *   panelMatMul(x, m, k, panels, n, out)
 *     out [m, n] = x [m, k] B [k, n], all row-major Float32Arrays
 *
 * The inner loop is written on 16-float vectors (GCC's vector extension); the function is
 * compiled for AVX-512, AVX2 + FMA and the baseline, and the loader picks the one the CPU
 * runs (target_clones), so the addon built on one x86-64 machine runs on any other.
 */
#include <stdio.h>
#include <string.h>

#include "heap.h"

#define PANEL 16 /* columns per panel: one AVX-512 vector, two AVX2 ones */
#define ROWS 8   /* rows computed together: 8 accumulators of 16 floats */

typedef float panel_row __attribute__((vector_size(PANEL * sizeof(float))));

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define MULTIVERSIONED __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MULTIVERSIONED
#endif

static int64_t panel_count(int64_t n) { return (n + PANEL - 1) / PANEL; }

static void pack(const float *source, int64_t rows, int64_t cols, bool transposed, float *panels) {
  const int64_t k_size = transposed ? cols : rows, n_size = transposed ? rows : cols;
  for (int64_t j = 0; j < panel_count(n_size); j++) {
    float *panel = panels + j * k_size * PANEL; /* [K, 16] */
    const int64_t width = n_size - j * PANEL < PANEL ? n_size - j * PANEL : PANEL;
    if (width < PANEL) { /* the last panel's padding: zeros (each value is written once, none is zeroed first) */
      for (int64_t k = 0; k < k_size; k++) memset(panel + k * PANEL + width, 0, (size_t)(PANEL - width) * sizeof(float));
    }
    if (transposed) {
      /* B[k, n] = source[n, k]: the panel's 16 columns are 16 rows of source, transposed a 16 x 16
       * block at a time (16 short reads, one contiguous write), not column by column through the panel. */
      for (int64_t k0 = 0; k0 < k_size; k0 += PANEL) {
        const int64_t depth = k_size - k0 < PANEL ? k_size - k0 : PANEL;
        for (int64_t c = 0; c < width; c++) {
          const float *row = source + (j * PANEL + c) * cols + k0;
          for (int64_t k = 0; k < depth; k++) panel[(k0 + k) * PANEL + c] = row[k];
        }
      }
    } else {
      for (int64_t k = 0; k < k_size; k++) memcpy(panel + k * PANEL, source + k * cols + j * PANEL, (size_t)width * sizeof(float));
    }
  }
}

/* `count` (1..ROWS) rows of x [., k] times one panel [k, 16] -> acc[count]. */
static inline __attribute__((always_inline)) void rows_times_panel(const float *x, int64_t k_size, int count, const float *panel, panel_row *acc) {
  for (int r = 0; r < ROWS; r++) acc[r] = (panel_row){0};
  if (count == ROWS) {
    for (int64_t k = 0; k < k_size; k++) {
      panel_row w;
      memcpy(&w, panel + k * PANEL, sizeof w);
      for (int r = 0; r < ROWS; r++) acc[r] += x[r * k_size + k] * w;
    }
  } else {
    for (int64_t k = 0; k < k_size; k++) {
      panel_row w;
      memcpy(&w, panel + k * PANEL, sizeof w);
      for (int r = 0; r < count; r++) acc[r] += x[r * k_size + k] * w;
    }
  }
}

MULTIVERSIONED
static void panel_matmul(const float *x, int64_t m, int64_t k_size, const float *panels, int64_t n_size, float *out) {
  for (int64_t j = 0; j < panel_count(n_size); j++) {
    const float *panel = panels + j * k_size * PANEL;
    const int64_t width = n_size - j * PANEL < PANEL ? n_size - j * PANEL : PANEL;
    for (int64_t r0 = 0; r0 < m; r0 += ROWS) {
      const int count = m - r0 < ROWS ? (int)(m - r0) : ROWS;
      panel_row acc[ROWS];
      rows_times_panel(x + r0 * k_size, k_size, count, panel, acc);
      for (int r = 0; r < count; r++) memcpy(out + (r0 + r) * n_size + j * PANEL, &acc[r], (size_t)width * sizeof(float));
    }
  }
}

static bool positive(napi_env env, const char *kernel, const int64_t *sizes, int count) {
  for (int i = 0; i < count; i++) {
    if (sizes[i] < 1 || sizes[i] > (int64_t)1 << 31) {
      char message[120];
      snprintf(message, sizeof message, "%s: sizes must be whole numbers from 1 to 2^31", kernel);
      napi_throw_range_error(env, NULL, message);
      return false;
    }
  }
  return true;
}

/* The arguments of packPanels: (source, rows, cols, transposed, panels), checked. */
static bool read_packing(napi_env env, napi_callback_info info, const char *kernel, heap_t *source, int64_t *rows, int64_t *cols, bool *transposed, heap_t *panels) {
  napi_value argv[5];
  int64_t size[2];
  if (!read_args(env, info, kernel, argv, 5) || !read_heap(env, kernel, argv[0], source) || !read_int(env, kernel, argv[1], &size[0]) ||
      !read_int(env, kernel, argv[2], &size[1]) || !read_bool(env, kernel, argv[3], transposed) || !read_heap(env, kernel, argv[4], panels) ||
      !positive(env, kernel, size, 2)) {
    return false;
  }
  *rows = size[0];
  *cols = size[1];
  return holds_floats(env, kernel, source, "source", *rows * *cols) &&
         holds_floats(env, kernel, panels, "panels", panel_count(*transposed ? *rows : *cols) * PANEL * (*transposed ? *cols : *rows));
}

napi_value pack_panels(napi_env env, napi_callback_info info) {
  heap_t source, panels;
  int64_t rows, cols;
  bool transposed;
  if (!read_packing(env, info, "packPanels", &source, &rows, &cols, &transposed, &panels)) return NULL;
  pack(source.data, rows, cols, transposed, panels.data);
  return NULL;
}

napi_value panel_mat_mul(napi_env env, napi_callback_info info) {
  const char *kernel = "panelMatMul";
  napi_value argv[6];
  heap_t x, panels, out;
  int64_t size[3]; /* m, k, n */
  if (!read_args(env, info, kernel, argv, 6) || !read_heap(env, kernel, argv[0], &x) || !read_int(env, kernel, argv[1], &size[0]) ||
      !read_int(env, kernel, argv[2], &size[1]) || !read_heap(env, kernel, argv[3], &panels) || !read_int(env, kernel, argv[4], &size[2]) ||
      !read_heap(env, kernel, argv[5], &out) || !positive(env, kernel, size, 3)) {
    return NULL;
  }
  const int64_t m = size[0], k = size[1], n = size[2];
  if (!holds_floats(env, kernel, &x, "x", m * k) || !holds_floats(env, kernel, &panels, "panels", panel_count(n) * PANEL * k) || !holds_floats(env, kernel, &out, "out", m * n)) return NULL;
  panel_matmul(x.data, m, k, panels.data, n, out.data);
  return NULL;
}
