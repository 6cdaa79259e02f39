/*
 * The sum of data-parallel workers' gradients (src/train/data-parallel.ts), over shared memory:
 *
 *   sumSlots(shared, total, slots, from, to)
 *     shared: Float32 [W + 1, total] (W gradient slots, then the sum), over a SharedArrayBuffer;
 *     sum[i] = slot 0 [i] + slot 1 [i] + ... + slot (slots - 1) [i]  for from <= i < to,
 *     added in slot order, in float, as data-parallel.ts's loop in JavaScript does.
 *
 * Each thread of the group sums its share of the values; in JavaScript that loop ran at about
 * 6 ns a value, here it runs at the memory's speed.
 */
#include "heap.h"

napi_value sum_slots(napi_env env, napi_callback_info info) {
  const char *kernel = "sumSlots";
  napi_value argv[5];
  heap_t shared;
  int64_t v[4]; /* total, slots, from, to */
  if (!read_args(env, info, kernel, argv, 5) || !read_heap(env, kernel, argv[0], &shared)) return NULL;
  for (int i = 0; i < 4; i++) {
    if (!read_int(env, kernel, argv[i + 1], &v[i])) return NULL;
  }
  const int64_t total = v[0], slots = v[1], from = v[2], to = v[3];
  if (total < 1 || shared.length % total != 0 || slots < 1 || slots >= shared.length / total || from < 0 || from > to || to > total) {
    napi_throw_range_error(env, NULL, "sumSlots: expected shared [W + 1, total] with 1 <= slots <= W and 0 <= from <= to <= total");
    return NULL;
  }
  float *restrict sum = shared.data + (shared.length / total - 1) * total;
  for (int64_t i = from; i < to; i++) sum[i] = shared.data[i];
  for (int64_t k = 1; k < slots; k++) {
    const float *restrict slot = shared.data + k * total;
    for (int64_t i = from; i < to; i++) sum[i] += slot[i];
  }
  return NULL;
}
