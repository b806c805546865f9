// AVX2 kernels (no VNNI). With the panel layout (panel_layout.h) a 32-byte vector holds 8
// weight rows x 4 inputs; vpmaddubsw multiplies unsigned by signed bytes into saturating
// 16-bit pair sums, vpmaddwd adds the pairs into one 32-bit lane per row, and the activation
// quad is broadcast to all lanes. One activation row per tile (16 registers hold a panel's 4
// int32 and 4 float accumulators and little more).
//   int8: pair sums of (qw + 128) * qx could reach 2 * 255 * 127 and saturate, so the stored
//         offset is removed and the sign trick used: |qw| * (qx * sign(qw)) <= 127 * 127.
//   int4: the nibble q + 8 <= 15 is unsigned already; each group's accumulators start at
//         -8 * sum(qx).
#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "services/worker/quant/kernels.h"
#include "services/worker/quant/panel_layout.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace sllm::worker::quant::internal {
namespace {

// 32 floats -> 32 int8 in natural order (as the scalar level: round to nearest even).
inline __m256i QuantizeGroup(const float* x, __m256 inverse, int32_t* total) {
  __m256i q[4];
  for (int k = 0; k < 4; ++k)
    q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), inverse));
  const __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
  __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
  s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
  *total = _mm_cvtsi128_si32(s4);
  // The packs work within 128-bit halves; the permute restores the order.
  const __m256i q16 =
      _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
  return _mm256_permutevar8x32_epi32(q16, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

void QuantizeRow(const float* x, int64_t cols, int8_t* q, float* d, int32_t* sum) {
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff);
  for (int64_t g = 0; g < cols / kGroupSize; ++g) {
    const float* src = x + g * kGroupSize;
    __m256i m = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k) {
      m = _mm256_max_epu32(
          m, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 8 * k)),
                              abs_mask));
    }
    __m128i m4 = _mm_max_epu32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
    m4 = _mm_max_epu32(m4, _mm_shuffle_epi32(m4, 0x4e));
    m4 = _mm_max_epu32(m4, _mm_shuffle_epi32(m4, 0xb1));
    const uint32_t amax_bits = static_cast<uint32_t>(_mm_cvtsi128_si32(m4));
    __m256i packed = _mm256_setzero_si256();
    int32_t total = 0;
    if (amax_bits > 0x7f7fffffu) {
      d[g] = std::numeric_limits<float>::quiet_NaN();
    } else {
      const float amax = std::bit_cast<float>(amax_bits);
      d[g] = amax / 127.0f;
      packed = QuantizeGroup(src, _mm256_set1_ps(amax != 0 ? 127.0f / amax : 0.0f), &total);
    }
    sum[g] = total;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + g * kGroupSize), packed);
  }
}

template <QuantType T, int R>
struct Tile {
  static_assert(R == 1);
  static void Run(const TileArgs& a) {
    constexpr bool kInt8 = T == QuantType::kInt8;
    constexpr int64_t kBytes = GroupBytes(T);
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i low_nibbles = _mm256_set1_epi8(0x0f);
    const __m256i offset = _mm256_set1_epi8(static_cast<char>(0x80));
    alignas(32) float out[kPanelRows] = {};
    if (a.accumulate) std::memcpy(out, a.y, a.valid_rows * sizeof(float));
    __m256 total[4];  // Rows 0..7, 8..15, 16..23, 24..31 of the panel.
    for (int b = 0; b < 4; ++b) total[b] = _mm256_load_ps(out + 8 * b);
    for (int64_t g0 = a.group_begin; g0 < a.group_end; g0 += KBlockGroups(T)) {
      __m256 acc[4];
      for (int b = 0; b < 4; ++b) acc[b] = _mm256_setzero_ps();
      for (int64_t g = g0; g < std::min(a.group_end, g0 + KBlockGroups(T)); ++g) {
        const uint8_t* block = a.w + g * kBytes;
        if (a.prefetch != 0) {
          for (int64_t line = 0; line < kBytes; line += 64) {
            _mm_prefetch(reinterpret_cast<const char*>(block + a.prefetch + line), _MM_HINT_T0);
          }
        }
        __m256i dot[4];
        for (int b = 0; b < 4; ++b) dot[b] = _mm256_set1_epi32(kInt8 ? 0 : -8 * a.xsum[g]);
        for (int u = 0; u < kQuads; ++u) {
          int32_t quad;
          std::memcpy(&quad, a.xq + g * kGroupSize + 4 * u, sizeof(quad));
          const __m256i xb = _mm256_set1_epi32(quad);
          for (int b = 0; b < 4; ++b) {
            __m256i pairs;
            if constexpr (kInt8) {
              // Rows 8b..8b+7: bytes 32b.. of the quad's 128.
              const __m256i w = _mm256_xor_si256(
                  _mm256_load_si256(reinterpret_cast<const __m256i*>(block + u * 128 + 32 * b)),
                  offset);
              pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(xb, w));
            } else {
              // Rows 0..15 in the low nibbles of the quad's 64 bytes, rows 16..31 in the high.
              const __m256i v = _mm256_load_si256(
                  reinterpret_cast<const __m256i*>(block + u * 64 + 32 * (b % 2)));
              const __m256i w = _mm256_and_si256(b < 2 ? v : _mm256_srli_epi16(v, 4), low_nibbles);
              pairs = _mm256_maddubs_epi16(w, xb);
            }
            dot[b] = _mm256_add_epi32(dot[b], _mm256_madd_epi16(pairs, ones));
          }
        }
        const __m256 dx = _mm256_set1_ps(a.xd[g]);
        for (int b = 0; b < 4; ++b) {
          const __m256 dw = _mm256_cvtph_ps(
              _mm_load_si128(reinterpret_cast<const __m128i*>(a.wd + g * kPanelRows + 8 * b)));
          acc[b] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[b]), _mm256_mul_ps(dw, dx), acc[b]);
        }
      }
      for (int b = 0; b < 4; ++b) total[b] = _mm256_add_ps(total[b], acc[b]);
    }
    for (int b = 0; b < 4; ++b) _mm256_store_ps(out + 8 * b, total[b]);
    std::memcpy(a.y, out, a.valid_rows * sizeof(float));
  }
};

}  // namespace
}  // namespace sllm::worker::quant::internal

#pragma GCC pop_options

namespace sllm::worker::quant::internal {

const Kernels& Avx2Kernels() {
  static const Kernels kernels = [] {
    Kernels k{};
    k.quantize_row = &QuantizeRow;
    FillTiles<Tile, 1>(k);
    return k;
  }();
  return kernels;
}

}  // namespace sllm::worker::quant::internal
