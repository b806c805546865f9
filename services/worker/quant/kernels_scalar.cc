// Portable kernels: the reference the SIMD levels are tested against. Integer sums per group
// and row, then one float multiply-add.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "services/worker/quant/fp16.h"
#include "services/worker/quant/kernels.h"
#include "services/worker/quant/panel_layout.h"

namespace sllm::worker::quant::internal {
namespace {

void QuantizeRow(const float* x, int64_t cols, int8_t* q, float* d, int32_t* sum) {
  for (int64_t g = 0; g < cols / kGroupSize; ++g) {
    const float* src = x + g * kGroupSize;
    int8_t* dst = q + g * kGroupSize;
    // The max over |x| as bit patterns: NaN (and inf) compare above every finite value.
    uint32_t amax_bits = 0;
    for (int k = 0; k < kGroupSize; ++k) {
      amax_bits = std::max(amax_bits, std::bit_cast<uint32_t>(src[k]) & 0x7fffffffu);
    }
    sum[g] = 0;
    if (amax_bits > 0x7f7fffffu) {  // Not finite.
      std::fill(dst, dst + kGroupSize, 0);
      d[g] = std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    const float amax = std::bit_cast<float>(amax_bits);
    const float inverse = amax != 0 ? 127.0f / amax : 0.0f;
    d[g] = amax / 127.0f;
    for (int k = 0; k < kGroupSize; ++k) {
      const int v = static_cast<int>(std::nearbyint(src[k] * inverse));  // Ties to even.
      dst[k] = static_cast<int8_t>(v);
      sum[g] += v;
    }
  }
}

// Row p's signed value at input k of a panel's group block.
template <QuantType T>
int WeightAt(const uint8_t* block, int p, int k) {
  if constexpr (T == QuantType::kInt8) {
    return block[Int8Offset(p, k)] - 128;
  } else {
    const uint8_t byte = block[Int4Offset(p, k)];
    return (p < 16 ? byte & 0x0f : byte >> 4) - 8;
  }
}

template <QuantType T, int R>
struct Tile {
  static void Run(const TileArgs& a) {
    for (int r = 0; r < R; ++r) {
      const int8_t* xq = a.xq + r * a.xq_stride;
      const float* xd = a.xd + r * a.xg_stride;
      for (int p = 0; p < a.valid_rows; ++p) {
        float total = a.accumulate ? a.y[r * a.y_stride + p] : 0.0f;
        for (int64_t g0 = a.group_begin; g0 < a.group_end; g0 += KBlockGroups(T)) {
          float acc = 0;
          for (int64_t g = g0; g < std::min(a.group_end, g0 + KBlockGroups(T)); ++g) {
            const uint8_t* block = a.w + g * GroupBytes(T);
            int32_t dot = 0;
            for (int k = 0; k < kGroupSize; ++k) {
              dot += WeightAt<T>(block, p, k) * xq[g * kGroupSize + k];
            }
            acc += static_cast<float>(dot) * (HalfToFloat(a.wd[g * kPanelRows + p]) * xd[g]);
          }
          total += acc;
        }
        a.y[r * a.y_stride + p] = total;
      }
    }
  }
};

}  // namespace

const Kernels& ScalarKernels() {
  static const Kernels kernels = [] {
    Kernels k{};
    k.quantize_row = &QuantizeRow;
    FillTiles<Tile, 1>(k);
    return k;
  }();
  return kernels;
}

}  // namespace sllm::worker::quant::internal
