/*
 * The soft attention of one time step of teacher forcing, forward and backward, on host
 * Float32Arrays: its scores' [B, P, A] passes (src/model/attention-scores.ts calls them) and
 * the softmax, context and gate after the scores (src/model/recurrence-kernels.ts defines
 * those; the formulas of its JavaScript loops, double-precision sums and weights in float32
 * arrays, a dot product summed in another order, so the two differ by rounding). fused-recurrence.ts calls both between the step's products; where the addon
 * is not built, tfjs kernels and the JavaScript loops run instead. At the `small` shape these
 * were the largest part of a step after the products (bench/README.md, issue #16).
 *
 *   attentionContext(dims, scores, features, hp, alpha, z, zg)
 *     dims = Int32Array [P, A, D, G, B, row]; for b < B: alpha = softmax(scores[b]) [P],
 *     z = sum_p alpha_p features[b, p] [D], zg = beta z with beta = s(hp[b, A..A+G)) (G = 0: 1),
 *     written at row `row + b` of alpha [N, P], z and zg [N, D]
 *   attentionContextBackward(dims, features, hp, alpha, z, dzg, dAlphaSum, dHp, dFeatures, dScores)
 *     given d zg [B, D] and d alphaSum [B, P]: the gate's columns of d hp [B, A + G], d scores
 *     [B, P], and d features [B, P, D] added into dFeatures (an empty array: not wanted)
 *   attentionScores(...), attentionScoresBackward(...): below
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "heap.h"

enum { P_, A_, D_, G_, B_, ROW_, DIMS };

static double sigmoid(double x) { return 1 / (1 + exp(-x)); }

/* sum_d u[d] v[d] over n values, in double, in 8 running sums (which the compiler vectorises;
 * one running sum, as the JavaScript loop keeps, waits on each addition in turn). */
static double dot_product(const double *u, const float *v, int64_t n) {
  double sums[8] = {0};
  int64_t d = 0;
  for (; d + 8 <= n; d += 8) {
    for (int j = 0; j < 8; j++) sums[j] += u[d + j] * v[d + j];
  }
  double total = 0;
  for (int j = 0; j < 8; j++) total += sums[j];
  for (; d < n; d++) total += u[d] * v[d];
  return total;
}

/* What a kernel's dims are: how many, which may be 0, and the errors that say what they must be. */
typedef struct {
  int count;
  unsigned zero_allowed; /* bit i: dims[i] may be 0 */
  const char *type_error;
  const char *range_error;
} dims_spec_t;

/* The dims (an Int32Array as `spec` says) and then `count` Float32Arrays of a call. */
static bool read_call(napi_env env, napi_callback_info info, const char *kernel, const dims_spec_t *spec, size_t count, int64_t *dims, heap_t *arrays) {
  napi_value argv[12];
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (!read_args(env, info, kernel, argv, count + 1)) return false;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int32_array || length != (size_t)spec->count) {
    napi_throw_type_error(env, NULL, spec->type_error);
    return false;
  }
  for (int i = 0; i < spec->count; i++) {
    dims[i] = ((int32_t *)data)[i];
    if (dims[i] < 0 || (!(spec->zero_allowed & (1u << i)) && dims[i] == 0)) {
      napi_throw_range_error(env, NULL, spec->range_error);
      return false;
    }
  }
  for (size_t i = 0; i < count; i++) {
    if (!read_heap(env, kernel, argv[i + 1], &arrays[i])) return false;
  }
  return true;
}

static const dims_spec_t CONTEXT_DIMS = {DIMS, (1u << G_) | (1u << ROW_), "attention kernels: dims must be an Int32Array [P, A, D, G, B, row]",
                                         "attention kernels: P, A, D and B must be positive, G and row not negative"};

/* a b c, or -1 where it overflows (then no array holds it: holds_floats refuses it). */
static int64_t product3(int64_t a, int64_t b, int64_t c) {
  int64_t ab, abc;
  if (__builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, &abc)) return -1;
  return abc;
}

/* The gate is a scalar (G 1), a vector over the features (G = D) or absent (G 0): the loops index hp's gate columns by that. */
static bool gate_width(napi_env env, const char *kernel, int64_t G, int64_t D) {
  if (G == 0 || G == 1 || G == D) return true;
  char message[160];
  snprintf(message, sizeof message, "%s: gate width G must be 0, 1 or D (%lld), got %lld", kernel, (long long)D, (long long)G);
  napi_throw_range_error(env, NULL, message);
  return false;
}

napi_value attention_context(napi_env env, napi_callback_info info) {
  const char *kernel = "attentionContext";
  int64_t dims[DIMS];
  heap_t a[6]; /* scores, features, hp, alpha, z, zg */
  if (!read_call(env, info, kernel, &CONTEXT_DIMS, 6, dims, a)) return NULL;
  const int64_t P = dims[P_], A = dims[A_], D = dims[D_], G = dims[G_], B = dims[B_], row = dims[ROW_];
  if (!gate_width(env, kernel, G, D)) return NULL;
  if (!holds_floats(env, kernel, &a[0], "scores", product3(B, P, 1)) || !holds_floats(env, kernel, &a[1], "features", product3(B, P, D)) || !holds_floats(env, kernel, &a[2], "hp", product3(B, A + G, 1)) ||
      !holds_floats(env, kernel, &a[3], "alpha", product3(row + B, P, 1)) || !holds_floats(env, kernel, &a[4], "z", product3(row + B, D, 1)) || !holds_floats(env, kernel, &a[5], "zg", product3(row + B, D, 1))) {
    return NULL;
  }
  const float *scores = a[0].data, *features = a[1].data, *hp = a[2].data;
  float *alpha = a[3].data, *z = a[4].data, *zg = a[5].data;
  double *context = malloc((size_t)D * sizeof(double)), *exps = malloc((size_t)P * sizeof(double));
  if (!context || !exps) {
    free(context);
    free(exps);
    napi_throw_error(env, NULL, "attentionContext: out of memory");
    return NULL;
  }
  for (int64_t b = 0; b < B; b++) {
    double max = -INFINITY, total = 0;
    for (int64_t p = 0; p < P; p++) max = fmax(max, scores[b * P + p]);
    for (int64_t p = 0; p < P; p++) total += exps[p] = exp(scores[b * P + p] - max);
    for (int64_t d = 0; d < D; d++) context[d] = 0;
    for (int64_t p = 0; p < P; p++) {
      const double weight = exps[p] / total;
      alpha[(row + b) * P + p] = (float)weight;
      const float *feature = features + (b * P + p) * D;
      for (int64_t d = 0; d < D; d++) context[d] += weight * feature[d];
    }
    for (int64_t d = 0; d < D; d++) {
      const double beta = G == 0 ? 1 : sigmoid(hp[b * (A + G) + A + (G == 1 ? 0 : d)]);
      z[(row + b) * D + d] = (float)context[d];
      zg[(row + b) * D + d] = (float)(beta * context[d]);
    }
  }
  free(context);
  free(exps);
  return NULL;
}

napi_value attention_context_backward(napi_env env, napi_callback_info info) {
  const char *kernel = "attentionContextBackward";
  int64_t dims[DIMS];
  heap_t a[9]; /* features, hp, alpha, z, dzg, dAlphaSum, dHp, dFeatures, dScores */
  if (!read_call(env, info, kernel, &CONTEXT_DIMS, 9, dims, a)) return NULL;
  const int64_t P = dims[P_], A = dims[A_], D = dims[D_], G = dims[G_], B = dims[B_], row = dims[ROW_];
  if (!gate_width(env, kernel, G, D)) return NULL;
  const bool feature_grads = a[7].length > 0;
  if (!holds_floats(env, kernel, &a[0], "features", product3(B, P, D)) || !holds_floats(env, kernel, &a[1], "hp", product3(B, A + G, 1)) || !holds_floats(env, kernel, &a[2], "alpha", product3(row + B, P, 1)) ||
      !holds_floats(env, kernel, &a[3], "z", product3(row + B, D, 1)) || !holds_floats(env, kernel, &a[4], "dzg", product3(B, D, 1)) || !holds_floats(env, kernel, &a[5], "dAlphaSum", product3(B, P, 1)) ||
      !holds_floats(env, kernel, &a[6], "dHp", product3(B, A + G, 1)) || (feature_grads && !holds_floats(env, kernel, &a[7], "dFeatures", product3(B, P, D))) || !holds_floats(env, kernel, &a[8], "dScores", product3(B, P, 1))) {
    return NULL;
  }
  const float *features = a[0].data, *hp = a[1].data, *alpha = a[2].data, *z = a[3].data, *dzg = a[4].data, *d_alpha_sum = a[5].data;
  float *d_hp = a[6].data, *d_features = a[7].data, *d_scores = a[8].data;
  double *dz = malloc((size_t)D * sizeof(double));
  if (!dz) {
    napi_throw_error(env, NULL, "attentionContextBackward: out of memory");
    return NULL;
  }
  for (int64_t b = 0; b < B; b++) {
    const int64_t hp_row = b * (A + G), z_row = (row + b) * D, alpha_row = (row + b) * P;
    /* The gate: zg = beta z. */
    double d_scalar = 0;
    for (int64_t d = 0; d < D; d++) {
      const double dy = dzg[b * D + d];
      if (G == 0) {
        dz[d] = dy;
        continue;
      }
      const double beta = sigmoid(hp[hp_row + A + (G == 1 ? 0 : d)]);
      dz[d] = dy * beta;
      const double d_pre = dy * z[z_row + d] * beta * (1 - beta);
      if (G == 1) d_scalar += d_pre;
      else d_hp[hp_row + A + d] = (float)d_pre;
    }
    if (G == 1) d_hp[hp_row + A] = (float)d_scalar;
    /* The context z = sum_p alpha_p a_p and alpha's share of alphaSum, then the softmax. */
    double dot = 0;
    for (int64_t p = 0; p < P; p++) {
      const float *feature = features + (b * P + p) * D;
      const double d_alpha = d_alpha_sum[b * P + p] + dot_product(dz, feature, D);
      if (feature_grads) {
        const double weight = alpha[alpha_row + p];
        float *grad = d_features + (b * P + p) * D;
        for (int64_t d = 0; d < D; d++) grad[d] = (float)(grad[d] + weight * dz[d]);
      }
      d_scores[b * P + p] = (float)d_alpha;
      dot += alpha[alpha_row + p] * d_alpha;
    }
    for (int64_t p = 0; p < P; p++) d_scores[b * P + p] = (float)(alpha[alpha_row + p] * (d_scores[b * P + p] - dot));
  }
  free(dz);
  return NULL;
}

/*
 * The attention scores of a time step and their backward pass, on host arrays: the [B, P, A]
 * passes that tfjs ran as five to eight kernels a step, each with its tensors.
 *
 *   attentionScores(dims, projected, hp, v, scores)
 *     dims = Int32Array [P, A, G, B, relu]; scores [B, P] = act(projected [B, P, A] + hp[b, :A]) v
 *   attentionScoresBackward(dims, projected, hp, dScores, preSum, uSum, dv)
 *     u = d scores act'(pre) [B, P, A], added into preSum [>= B, P, A] (the sum over the steps
 *     so far) and summed over the regions into uSum [B, A]; with tanh, dv [A] = d scores^T
 *     act(pre) (the step's share of v's gradient; ReLU's comes from preSum at the end)
 */
enum { SP_, SA_, SG_, SB_, SRELU_, SDIMS };

static const dims_spec_t SCORE_DIMS = {SDIMS, (1u << SG_) | (1u << SRELU_), "attention score kernels: dims must be an Int32Array [P, A, G, B, relu]",
                                       "attention score kernels: P, A and B must be positive, G not negative"};

napi_value attention_scores(napi_env env, napi_callback_info info) {
  const char *kernel = "attentionScores";
  int64_t dims[SDIMS];
  heap_t a[4]; /* projected, hp, v, scores */
  if (!read_call(env, info, kernel, &SCORE_DIMS, 4, dims, a)) return NULL;
  const int64_t P = dims[SP_], A = dims[SA_], G = dims[SG_], B = dims[SB_];
  const bool relu = dims[SRELU_] != 0;
  if (!holds_floats(env, kernel, &a[0], "projected", product3(B, P, A)) || !holds_floats(env, kernel, &a[1], "hp", product3(B, A + G, 1)) || !holds_floats(env, kernel, &a[2], "v", A) ||
      !holds_floats(env, kernel, &a[3], "scores", product3(B, P, 1))) {
    return NULL;
  }
  const float *projected = a[0].data, *hp = a[1].data, *v = a[2].data;
  float *scores = a[3].data;
  for (int64_t b = 0; b < B; b++) {
    const float *h = hp + b * (A + G);
    for (int64_t p = 0; p < P; p++) {
      const float *x = projected + (b * P + p) * A;
      float sums[16] = {0};
      int64_t k = 0;
      for (; k + 16 <= A; k += 16) {
        for (int j = 0; j < 16; j++) {
          const float pre = x[k + j] + h[k + j];
          sums[j] += v[k + j] * (relu ? (pre < 0 ? 0 : pre) : tanhf(pre)); /* ReLU keeps a NaN, as tfjs's does */
        }
      }
      float total = 0;
      for (int j = 0; j < 16; j++) total += sums[j];
      for (; k < A; k++) {
        const float pre = x[k] + h[k];
        total += v[k] * (relu ? (pre < 0 ? 0 : pre) : tanhf(pre));
      }
      scores[b * P + p] = total;
    }
  }
  return NULL;
}

napi_value attention_scores_backward(napi_env env, napi_callback_info info) {
  const char *kernel = "attentionScoresBackward";
  int64_t dims[SDIMS];
  heap_t a[6]; /* projected, hp, dScores, preSum, uSum, dv */
  if (!read_call(env, info, kernel, &SCORE_DIMS, 6, dims, a)) return NULL;
  const int64_t P = dims[SP_], A = dims[SA_], G = dims[SG_], B = dims[SB_];
  const bool relu = dims[SRELU_] != 0;
  if (!holds_floats(env, kernel, &a[0], "projected", product3(B, P, A)) || !holds_floats(env, kernel, &a[1], "hp", product3(B, A + G, 1)) || !holds_floats(env, kernel, &a[2], "dScores", product3(B, P, 1)) ||
      !holds_floats(env, kernel, &a[3], "preSum", product3(B, P, A)) || !holds_floats(env, kernel, &a[4], "uSum", product3(B, A, 1)) || !holds_floats(env, kernel, &a[5], "dv", A)) {
    return NULL;
  }
  const float *projected = a[0].data, *hp = a[1].data, *d_scores = a[2].data;
  float *pre_sum = a[3].data, *u_sum = a[4].data, *dv = a[5].data;
  for (int64_t k = 0; k < A; k++) dv[k] = 0;
  for (int64_t b = 0; b < B; b++) {
    const float *h = hp + b * (A + G);
    float *us = u_sum + b * A;
    for (int64_t k = 0; k < A; k++) us[k] = 0;
    for (int64_t p = 0; p < P; p++) {
      const float ds = d_scores[b * P + p];
      const float *x = projected + (b * P + p) * A;
      float *sum = pre_sum + (b * P + p) * A;
      for (int64_t k = 0; k < A; k++) {
        const float pre = x[k] + h[k];
        float u;
        if (relu) u = pre > 0 ? ds : pre == pre ? 0 : pre; /* tfjs's step keeps a NaN */
        else {
          const float t = tanhf(pre);
          dv[k] += ds * t;
          u = ds * (1 - t * t);
        }
        sum[k] += u;
        us[k] += u;
      }
    }
  }
  return NULL;
}
