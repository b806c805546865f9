#include "services/worker/kernels/decode_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <immintrin.h>

#include "services/worker/kernels/bf16.h"

// GCC 12's _mm512_reduce_*_ps expand through _mm512_undefined_ps: a false "used
// uninitialized" warning at every call site.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace sllm::worker::kernels {
namespace {

inline float Widen(float v) { return v; }
inline float Widen(uint16_t b) { return WidenBF16(b); }

// What the `group` query heads of KV head `g` of one sequence attend to: the visible
// positions start .. start + len - 1, their key and value rows, and the heads' q and out
// (heads g * group ...).
template <typename T>
struct GroupView {
  GroupView(const DecodeQuery& query, int64_t g, int64_t group, const PagedKV& kv,
            int64_t window)
      : query(query), kv(kv), g(g), dim(kv.head_dim),
        start(window > 0 ? std::max<int64_t>(0, query.context_len - window) : 0),
        len(query.context_len - start),
        q(query.q + g * group * dim),
        out(query.out + g * group * dim) {}

  // The key / value row of visible position i (0 .. len - 1).
  const T* key(int64_t i) const { return static_cast<const T*>(kv.keys) + Row(start + i); }
  const T* value(int64_t i) const { return static_cast<const T*>(kv.values) + Row(start + i); }

  const DecodeQuery& query;
  const PagedKV& kv;
  const int64_t g, dim, start, len;
  const float* const q;
  float* const out;

 private:
  int64_t Row(int64_t t) const {
    const int64_t bs = kv.block_size;
    return ((query.block_table[t / bs] * bs + t % bs) * kv.kv_heads + g) * dim;
  }
};

// Portable: any head_dim, any CPU.
template <typename T>
void AttendGroup(const DecodeQuery& query, int64_t g, int64_t group, const PagedKV& kv,
                 float scale, int64_t window, std::vector<float>& scores) {
  const GroupView<T> v(query, g, group, kv, window);
  const int64_t dim = v.dim, len = v.len;
  const float* q = v.q;
  float* out = v.out;
  scores.resize(group * len);

  // Scores: each key row is read once for all the group's query heads.
  for (int64_t t = 0; t < len; ++t) {
    const T* k = v.key(t);
    for (int64_t h = 0; h < group; ++h) {
      const float* qh = q + h * dim;
      float s = 0.0f;
#pragma omp simd reduction(+ : s)
      for (int64_t d = 0; d < dim; ++d) s += qh[d] * Widen(k[d]);
      scores[h * len + t] = s * scale;
    }
  }
  // Softmax per head.
  for (int64_t h = 0; h < group; ++h) {
    float* sh = scores.data() + h * len;
    float max = -std::numeric_limits<float>::infinity();
    for (int64_t t = 0; t < len; ++t) max = std::max(max, sh[t]);
    float sum = 0.0f;
    for (int64_t t = 0; t < len; ++t) {
      sh[t] = std::exp(sh[t] - max);
      sum += sh[t];
    }
    const float inv = 1.0f / sum;
    for (int64_t t = 0; t < len; ++t) sh[t] *= inv;
  }
  // Weighted sum of values, each value row read once.
  std::fill(out, out + group * dim, 0.0f);
  for (int64_t t = 0; t < len; ++t) {
    const T* val = v.value(t);
    for (int64_t h = 0; h < group; ++h) {
      const float p = scores[h * len + t];
      float* oh = out + h * dim;
#pragma omp simd
      for (int64_t d = 0; d < dim; ++d) oh[d] += p * Widen(val[d]);
    }
  }
}

// --- AVX-512, head_dim a multiple of 16 ------------------------------------------------------

#define SLLM_AVX512F __attribute__((target("avx512f")))

SLLM_AVX512F inline __m512 Load16(const float* p) { return _mm512_loadu_ps(p); }
SLLM_AVX512F inline __m512 Load16(const uint16_t* p) {
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// e^x for x <= 0 (scores minus their maximum): x = n ln2 + f with |f| <= ln2 / 2, e^f by its
// degree-6 Taylor polynomial (relative error < 2e-7), times 2^n by VSCALEFPS. x below -120
// (-inf included) gives 0.
SLLM_AVX512F inline __m512 Exp(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-120.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 f = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145752f), x);  // ln2, high part
  f = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860677e-6f), f);        // ln2, low part
  __m512 p = _mm512_set1_ps(1.0f / 720);
  for (float c : {1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f}) {
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(c));
  }
  return _mm512_scalef_ps(p, n);
}

template <typename T>
SLLM_AVX512F void AttendGroupAvx512(const DecodeQuery& query, int64_t g, int64_t group,
                                    const PagedKV& kv, float scale, int64_t window,
                                    std::vector<float>& scores) {
  const GroupView<T> v(query, g, group, kv, window);
  const int64_t dim = v.dim, len = v.len;
  const float* q = v.q;
  float* out = v.out;
  const int64_t padded = (len + 15) / 16 * 16;  // Softmax runs over whole vectors.
  scores.resize(group * padded);

  for (int64_t t = 0; t < len; ++t) {
    const T* k = v.key(t);
    for (int64_t h = 0; h < group; ++h) {
      const float* qh = q + h * dim;
      __m512 acc = _mm512_mul_ps(Load16(qh), Load16(k));
      for (int64_t d = 16; d < dim; d += 16) {
        acc = _mm512_fmadd_ps(Load16(qh + d), Load16(k + d), acc);
      }
      scores[h * padded + t] = _mm512_reduce_add_ps(acc) * scale;
    }
  }
  for (int64_t h = 0; h < group; ++h) {
    float* sh = scores.data() + h * padded;
    std::fill(sh + len, sh + padded, -std::numeric_limits<float>::infinity());
    __m512 vmax = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    for (int64_t t = 0; t < padded; t += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(sh + t));
    const __m512 max = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
    __m512 vsum = _mm512_setzero_ps();
    for (int64_t t = 0; t < padded; t += 16) {
      const __m512 e = Exp(_mm512_sub_ps(_mm512_loadu_ps(sh + t), max));  // Padding: e^-inf = 0.
      _mm512_storeu_ps(sh + t, e);
      vsum = _mm512_add_ps(vsum, e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
    for (int64_t t = 0; t < padded; t += 16) {
      _mm512_storeu_ps(sh + t, _mm512_mul_ps(_mm512_loadu_ps(sh + t), inv));
    }
  }
  std::fill(out, out + group * dim, 0.0f);
  for (int64_t t = 0; t < len; ++t) {
    const T* val = v.value(t);
    for (int64_t h = 0; h < group; ++h) {
      const __m512 p = _mm512_set1_ps(scores[h * padded + t]);
      float* oh = out + h * dim;
      for (int64_t d = 0; d < dim; d += 16) {
        _mm512_storeu_ps(oh + d, _mm512_fmadd_ps(p, Load16(val + d), _mm512_loadu_ps(oh + d)));
      }
    }
  }
}

}  // namespace

void DecodeAttention(const DecodeQuery* queries, int64_t num_queries, int64_t heads,
                     const PagedKV& kv, float scale, int64_t window, Isa isa) {
  const int64_t group = heads / kv.kv_heads;
  if (isa == Isa::kAuto) isa = BestIsa();
  const bool avx512 = isa != Isa::kScalar && kv.head_dim % 16 == 0;
  const int64_t tasks = num_queries * kv.kv_heads;
  int64_t work = 0;  // Key and value elements read: one thread below ~64k.
  for (int64_t i = 0; i < num_queries; ++i) work += queries[i].context_len;
  work *= kv.kv_heads * kv.head_dim * 2;
#pragma omp parallel if (work >= (int64_t{1} << 16) && tasks > 1)
  {
    std::vector<float> scores;
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < tasks; ++task) {
      const DecodeQuery& query = queries[task / kv.kv_heads];
      const int64_t g = task % kv.kv_heads;
      if (avx512 && kv.bfloat16) {
        AttendGroupAvx512<uint16_t>(query, g, group, kv, scale, window, scores);
      } else if (avx512) {
        AttendGroupAvx512<float>(query, g, group, kv, scale, window, scores);
      } else if (kv.bfloat16) {
        AttendGroup<uint16_t>(query, g, group, kv, scale, window, scores);
      } else {
        AttendGroup<float>(query, g, group, kv, scale, window, scores);
      }
    }
  }
}

}  // namespace sllm::worker::kernels
