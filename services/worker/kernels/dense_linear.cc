#include "services/worker/kernels/dense_linear.h"

#include <immintrin.h>

// GCC 12's _mm512_reduce_add_ps expands through _mm512_undefined_ps: a false "used
// uninitialized" warning at every call site.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cstring>
#include <vector>

#include "services/worker/kernels/bf16.h"

namespace sllm::worker::kernels {
namespace {

// Below this many weight elements one thread is faster than waking the pool.
constexpr int64_t kParallelMinWeights = int64_t{1} << 16;

float Load(const float* w, int64_t i) { return w[i]; }
float Load(const uint16_t* w, int64_t i) { return WidenBF16(w[i]); }

template <typename W>
void LinearScalar(const float* x, int64_t m, const W* w, int64_t n, int64_t k, const float* bias,
                  float* y) {
#pragma omp parallel for schedule(static) if (n * k >= kParallelMinWeights)
  for (int64_t j = 0; j < n; ++j) {
    const W* row = w + j * k;
    for (int64_t i = 0; i < m; ++i) {
      const float* xi = x + i * k;
      float acc = 0;
      for (int64_t c = 0; c < k; ++c) acc += xi[c] * Load(row, c);
      y[i * n + j] = acc + (bias != nullptr ? bias[j] : 0.0f);
    }
  }
}

// --- AVX-512 ---------------------------------------------------------------------------------
// A policy says what one step along k is: how many elements it covers, how weights and
// activations load (masked at the tail of k) and how they accumulate into 16 float lanes.

#define SLLM_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// Interleaved row streams defeat the hardware prefetcher on short rows (the 256-wide rows of
// a small model's vocabulary projection ran at half speed without this): ask this far ahead.
constexpr int kPrefetchBytes = 2048;
// Each tile also starts RW new row streams, which the hardware prefetcher meets cold; so the
// tile also fetches, at its own offsets, the rows of the tile at least this far ahead.
// Measured (bfloat16 rows of 2048, 1 thread, 1 activation row): 14-15 -> 21-22 GB/s.
constexpr int64_t kPrefetchTileBytes = 8192;
// Weight rows at most this long count as short (the 256-wide layers of small models).
constexpr int64_t kShortRow = 512;

struct F32Weights {
  using W = float;
  using X = float;
  using Mask = __mmask16;
  static constexpr int kStep = 16;
  SLLM_AVX512 static Mask TailMask(int64_t left) {
    return left >= kStep ? static_cast<Mask>(0xFFFF) : static_cast<Mask>((1u << left) - 1);
  }
  SLLM_AVX512 static __m512 LoadW(const W* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  SLLM_AVX512 static __m512 LoadX(const X* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  SLLM_AVX512 static __m512 Madd(__m512 acc, __m512 x, __m512 w) {
    return _mm512_fmadd_ps(x, w, acc);
  }
};

// bfloat16 weights widened to float32 (AVX-512 without the BF16 extension): the float32
// policy with another weight load.
struct BF16WidenWeights : F32Weights {
  using W = uint16_t;
  SLLM_AVX512 static __m512 LoadW(const W* p, Mask m) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};

// bfloat16 weights and activations: VDPBF16PS multiplies 32 pairs and adds them in float32.
struct BF16DotWeights {
  using W = uint16_t;
  using X = uint16_t;
  using Mask = __mmask32;
  static constexpr int kStep = 32;
  SLLM_AVX512 static Mask TailMask(int64_t left) {
    return left >= kStep ? static_cast<Mask>(0xFFFFFFFFu)
                         : static_cast<Mask>((uint64_t{1} << left) - 1);
  }
  SLLM_AVX512 static __m512i LoadW(const W* p, Mask m) { return _mm512_maskz_loadu_epi16(m, p); }
  SLLM_AVX512 static __m512i LoadX(const X* p, Mask m) { return _mm512_maskz_loadu_epi16(m, p); }
  SLLM_AVX512 static __m512 Madd(__m512 acc, __m512i x, __m512i w) {
    return _mm512_dpbf16_ps(acc, reinterpret_cast<__m512bh>(x), reinterpret_cast<__m512bh>(w));
  }
};

// The four horizontal sums of a, b, c, d in one step: interleave and add within 128-bit
// lanes (two rounds) until each lane holds one partial sum of each input, then add the four
// lanes. 15 instructions where four _mm512_reduce_add_ps take about 32; with the 256-wide
// rows of a small model's layers the reductions were as costly as the products.
SLLM_AVX512 __m128 Sum4(__m512 a, __m512 b, __m512 c, __m512 d) {
  // Per lane: [a0+a2, b0+b2, a1+a3, b1+b3] and the same for c, d.
  const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
  // Per lane: [a, b, c, d] partial sums.
  const __m512 abcd = _mm512_add_ps(
      _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(ab), _mm512_castps_pd(cd))),
      _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(ab), _mm512_castps_pd(cd))));
  const __m256 halves = _mm256_add_ps(_mm512_castps512_ps256(abcd),
                                      _mm256_castpd_ps(_mm512_extractf64x4_pd(
                                          _mm512_castps_pd(abcd), 1)));
  return _mm_add_ps(_mm256_castps256_ps128(halves), _mm256_extractf128_ps(halves, 1));
}

// RW weight rows (output features j0..j0+RW-1) against RX activation rows: RW * RX
// accumulators of 16 lanes over k, each weight vector loaded once and used RX times.
template <typename P, int RW, int RX>
SLLM_AVX512 void Tile(const typename P::X* x, int64_t k, const typename P::W* w, int64_t j0,
                      int64_t n, const float* bias, float* y) {
  __m512 acc[RX][RW];
  for (int i = 0; i < RX; ++i) {
    for (int r = 0; r < RW; ++r) acc[i][r] = _mm512_setzero_ps();
  }
  const typename P::W* rows[RW];
  for (int r = 0; r < RW; ++r) rows[r] = w + (j0 + r) * k;
  // Whole tiles (RW rows) between this one and the one prefetched; past the matrix's end a
  // prefetch is only a hint.
  const int64_t tile_bytes = RW * k * static_cast<int64_t>(sizeof(typename P::W));
  const int64_t ahead = RW * k * std::max<int64_t>(1, (kPrefetchTileBytes + tile_bytes - 1) /
                                                          tile_bytes);
  for (int64_t c = 0; c < k; c += P::kStep) {
    const typename P::Mask mask = P::TailMask(k - c);
    decltype(P::LoadW(rows[0], mask)) wv[RW];
    for (int r = 0; r < RW; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(rows[r] + ahead + c), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(rows[r] + c) + kPrefetchBytes, _MM_HINT_T0);
      wv[r] = P::LoadW(rows[r] + c, mask);
    }
    for (int i = 0; i < RX; ++i) {
      const auto xv = P::LoadX(x + i * k + c, mask);
      for (int r = 0; r < RW; ++r) acc[i][r] = P::Madd(acc[i][r], xv, wv[r]);
    }
  }
  if constexpr (RW % 4 == 0) {
    for (int r = 0; r < RW; r += 4) {
      const __m128 b = bias != nullptr ? _mm_loadu_ps(bias + j0 + r) : _mm_setzero_ps();
      for (int i = 0; i < RX; ++i) {
        _mm_storeu_ps(y + i * n + j0 + r,
                      _mm_add_ps(Sum4(acc[i][r], acc[i][r + 1], acc[i][r + 2], acc[i][r + 3]), b));
      }
    }
    return;
  }
  for (int i = 0; i < RX; ++i) {
    for (int r = 0; r < RW; ++r) {
      y[i * n + j0 + r] =
          _mm512_reduce_add_ps(acc[i][r]) + (bias != nullptr ? bias[j0 + r] : 0.0f);
    }
  }
}

// Output features j0..j0+RW-1 for every activation row, four rows at a time: the block's
// weights stay in L1/L2 between the passes, so memory sees each weight once.
template <typename P, int RW>
SLLM_AVX512 void RowBlock(const typename P::X* x, int64_t m, int64_t k, const typename P::W* w,
                          int64_t j0, int64_t n, const float* bias, float* y) {
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) Tile<P, RW, 4>(x + i * k, k, w, j0, n, bias, y + i * n);
  switch (m - i) {
    case 3: Tile<P, RW, 3>(x + i * k, k, w, j0, n, bias, y + i * n); break;
    case 2: Tile<P, RW, 2>(x + i * k, k, w, j0, n, bias, y + i * n); break;
    case 1: Tile<P, RW, 1>(x + i * k, k, w, j0, n, bias, y + i * n); break;
    default: break;
  }
}

template <typename P>
SLLM_AVX512 void LinearAvx512(const typename P::X* x, int64_t m, const typename P::W* w,
                              int64_t n, int64_t k, const float* bias, float* y) {
  if (m == 1 && k <= kShortRow) {
    // One activation row over short weight rows: 16 rows a tile, so that each tile's fixed
    // cost (reductions, stores, the start of new streams) is spread over 16 rows. Measured
    // (128256 x 256, 1 thread, weights from DRAM): 17 -> 20 GB/s in float32 and bfloat16.
    constexpr int64_t kRows = 16;
    const int64_t blocks = n / kRows;
#pragma omp parallel for schedule(static) if (n * k >= kParallelMinWeights)
    for (int64_t b = 0; b < blocks; ++b) Tile<P, kRows, 1>(x, k, w, b * kRows, n, bias, y);
    for (int64_t j = blocks * kRows; j < n; ++j) RowBlock<P, 1>(x, m, k, w, j, n, bias, y);
    return;
  }
  constexpr int64_t kRows = 4;
  const int64_t blocks = n / kRows;
#pragma omp parallel for schedule(static) if (n * k >= kParallelMinWeights)
  for (int64_t b = 0; b < blocks; ++b) RowBlock<P, kRows>(x, m, k, w, b * kRows, n, bias, y);
  for (int64_t j = blocks * kRows; j < n; ++j) RowBlock<P, 1>(x, m, k, w, j, n, bias, y);
}

// float32 -> bfloat16, round to nearest even (NaN stays NaN).
uint16_t RoundToBF16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7FFF + ((u >> 16) & 1);
  return static_cast<uint16_t>(u >> 16);
}

}  // namespace

void LinearF32(const float* x, int64_t m, const float* w, int64_t n, int64_t k,
               const float* bias, float* y, Isa isa) {
  if (isa == Isa::kAuto) isa = BestIsa();
  if (isa == Isa::kScalar) LinearScalar(x, m, w, n, k, bias, y);
  else LinearAvx512<F32Weights>(x, m, w, n, k, bias, y);
}

void LinearBF16(const float* x, int64_t m, const uint16_t* w, int64_t n, int64_t k,
                const float* bias, float* y, Isa isa) {
  if (isa == Isa::kAuto) isa = BestIsa();
  if (isa == Isa::kScalar) {
    LinearScalar(x, m, w, n, k, bias, y);
  } else if (isa == Isa::kAvx512) {
    LinearAvx512<BF16WidenWeights>(x, m, w, n, k, bias, y);
  } else {
    thread_local std::vector<uint16_t> x16;
    x16.resize(m * k);
    for (int64_t i = 0; i < m * k; ++i) x16[i] = RoundToBF16(x[i]);
    LinearAvx512<BF16DotWeights>(x16.data(), m, w, n, k, bias, y);
  }
}

}  // namespace sllm::worker::kernels
