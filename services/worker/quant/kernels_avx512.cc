// AVX-512 VNNI kernels. vpdpbusd multiplies unsigned by signed bytes and adds each 4 products
// into a 32-bit lane; with the panel layout (panel_layout.h) lane p of a quad vector is
// weight row p, and the activation quad is broadcast to all lanes.
//
// Weights are unsigned with an offset (int8: q + 128; int4: the nibble q + 8) and the
// activations signed, so per group
//
//   sum_k (qw + offset) * qx = sum_k qw * qx + offset * sum_k qx,
//
// and starting the int32 accumulator at -offset * sum(qx) (known per activation group) leaves
// exactly the signed dot product. int4 rows 16..31 sit in the high nibbles: masked with 0xf0
// they are 16 * (q + 8), so their offset is 128 and their scale is divided by 16.
//
// Per group and 32-row panel, each activation row costs 16 vpdpbusd (8 quads x 2 halves)
// and 2 x (convert, multiply, FMA): the float work is amortized over 32 inputs x 16 rows.
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

// GCC 12 warns about the deliberately uninitialized __Y inside its own _mm512_undefined_*()
// (GCC bug 105593, fixed in 13) wherever those intrinsics inline.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "services/worker/quant/kernels.h"
#include "services/worker/quant/panel_layout.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vnni")

namespace sllm::worker::quant::internal {
namespace {

void QuantizeRow(const float* x, int64_t cols, int8_t* q, float* d, int32_t* sum) {
  const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff);
  for (int64_t g = 0; g < cols / kGroupSize; ++g) {
    const __m512 v0 = _mm512_loadu_ps(x + g * kGroupSize);
    const __m512 v1 = _mm512_loadu_ps(x + g * kGroupSize + 16);
    // Max of |x| as bit patterns (NaN and inf above every finite value), as the scalar level.
    const uint32_t amax_bits = _mm512_reduce_max_epu32(
        _mm512_max_epu32(_mm512_and_si512(_mm512_castps_si512(v0), abs_mask),
                         _mm512_and_si512(_mm512_castps_si512(v1), abs_mask)));
    __m256i packed = _mm256_setzero_si256();
    sum[g] = 0;
    if (amax_bits > 0x7f7fffffu) {
      d[g] = std::numeric_limits<float>::quiet_NaN();
    } else {
      const float amax = std::bit_cast<float>(amax_bits);
      const __m512 inverse = _mm512_set1_ps(amax != 0 ? 127.0f / amax : 0.0f);
      d[g] = amax / 127.0f;
      // Round to nearest even (the MXCSR default), as std::nearbyint.
      const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, inverse));
      const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, inverse));
      sum[g] = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
      packed = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm512_cvtepi32_epi8(q0)),
                                       _mm512_cvtepi32_epi8(q1), 1);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + g * kGroupSize), packed);
  }
}

template <QuantType T, int R>
struct Tile {
  static void Run(const TileArgs& a) {
    constexpr bool kInt8 = T == QuantType::kInt8;
    constexpr int64_t kBytes = GroupBytes(T);
    constexpr int kOffsetLow = kInt8 ? 128 : 8, kOffsetHigh = 128;
    const __m512i low_nibbles = _mm512_set1_epi8(0x0f);
    const __m512i high_nibbles = _mm512_set1_epi8(static_cast<char>(0xf0));
    const __m512 high_factor = _mm512_set1_ps(kInt8 ? 1.0f : 1.0f / 16);
    const __mmask16 mask0 = static_cast<__mmask16>((1u << std::min(a.valid_rows, 16)) - 1);
    const __mmask16 mask1 = static_cast<__mmask16>((1u << std::max(a.valid_rows - 16, 0)) - 1);
    __m512 total[R][2];  // [x row][rows 0..15, 16..31 of the panel]
    for (int r = 0; r < R; ++r) {
      total[r][0] =
          a.accumulate ? _mm512_maskz_loadu_ps(mask0, a.y + r * a.y_stride) : _mm512_setzero_ps();
      total[r][1] = a.accumulate ? _mm512_maskz_loadu_ps(mask1, a.y + r * a.y_stride + 16)
                                 : _mm512_setzero_ps();
    }
    for (int64_t g0 = a.group_begin; g0 < a.group_end; g0 += KBlockGroups(T)) {
      __m512 acc[R][2];
      for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
      for (int64_t g = g0; g < std::min(a.group_end, g0 + KBlockGroups(T)); ++g) {
        const uint8_t* block = a.w + g * kBytes;
        if (a.prefetch != 0) {
          for (int64_t line = 0; line < kBytes; line += 64) {
            _mm_prefetch(reinterpret_cast<const char*>(block + a.prefetch + line), _MM_HINT_T0);
          }
        }
        __m512i dot[R][2];
        for (int r = 0; r < R; ++r) {
          const int32_t s = a.xsum[r * a.xg_stride + g];
          dot[r][0] = _mm512_set1_epi32(-kOffsetLow * s);
          dot[r][1] = _mm512_set1_epi32(-kOffsetHigh * s);
        }
        for (int u = 0; u < kQuads; ++u) {
          __m512i w0, w1;
          if constexpr (kInt8) {
            w0 = _mm512_load_si512(block + u * 128);
            w1 = _mm512_load_si512(block + u * 128 + 64);
          } else {
            const __m512i v = _mm512_load_si512(block + u * 64);
            w0 = _mm512_and_si512(v, low_nibbles);
            w1 = _mm512_and_si512(v, high_nibbles);
          }
          for (int r = 0; r < R; ++r) {
            int32_t quad;
            std::memcpy(&quad, a.xq + r * a.xq_stride + g * kGroupSize + 4 * u, sizeof(quad));
            const __m512i xb = _mm512_set1_epi32(quad);
            dot[r][0] = _mm512_dpbusd_epi32(dot[r][0], w0, xb);
            dot[r][1] = _mm512_dpbusd_epi32(dot[r][1], w1, xb);
          }
        }
        const __m512 dw0 = _mm512_cvtph_ps(
            _mm256_load_si256(reinterpret_cast<const __m256i*>(a.wd + g * kPanelRows)));
        const __m512 dw1 = _mm512_mul_ps(
            _mm512_cvtph_ps(
                _mm256_load_si256(reinterpret_cast<const __m256i*>(a.wd + g * kPanelRows + 16))),
            high_factor);
        for (int r = 0; r < R; ++r) {
          const __m512 dx = _mm512_set1_ps(a.xd[r * a.xg_stride + g]);
          acc[r][0] =
              _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[r][0]), _mm512_mul_ps(dw0, dx), acc[r][0]);
          acc[r][1] =
              _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[r][1]), _mm512_mul_ps(dw1, dx), acc[r][1]);
        }
      }
      for (int r = 0; r < R; ++r) {
        total[r][0] = _mm512_add_ps(total[r][0], acc[r][0]);
        total[r][1] = _mm512_add_ps(total[r][1], acc[r][1]);
      }
    }
    for (int r = 0; r < R; ++r) {
      _mm512_mask_storeu_ps(a.y + r * a.y_stride, mask0, total[r][0]);
      _mm512_mask_storeu_ps(a.y + r * a.y_stride + 16, mask1, total[r][1]);
    }
  }
};

}  // namespace
}  // namespace sllm::worker::quant::internal

#pragma GCC pop_options

namespace sllm::worker::quant::internal {

// Outside the target region: the table is built on any CPU (MatMul only calls into it where
// CpuSupports(kAvx512Vnni)).
const Kernels& Avx512VnniKernels() {
  static const Kernels kernels = [] {
    Kernels k{};
    k.quantize_row = &QuantizeRow;
    FillTiles<Tile, 6>(k);
    return k;
  }();
  return kernels;
}

}  // namespace sllm::worker::quant::internal
