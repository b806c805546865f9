// The storage order of quantized weights (internal to quant/): "panels" of 32 rows, the way
// GEMM kernels pack a matrix, so that one vector load holds 16 rows x 4 consecutive inputs.
//
// Rows are padded with zero rows to a multiple of kPanelRows = 32; each panel is stored
// contiguously, group after group (32 inputs each), and inside a group "quad" after quad
// (4 consecutive inputs k = 4u .. 4u+3, u = 0..7):
//
//   int8, 128 bytes per quad: [rows 0..15, 4 bytes each][rows 16..31, 4 bytes each]
//         byte = q + 128 (unsigned).
//   int4,  64 bytes per quad: byte 4p + b (p = 0..15) holds row p's value in its low nibble
//         and row p + 16's in its high nibble; nibble = q + 8.
//
// Why: the int8 dot-product instructions (AVX-512 VNNI vpdpbusd; AVX2 vpmaddubsw +
// vpmaddwd) sum 4 adjacent byte products into one 32-bit lane. Here lane p of a quad vector
// is row p, so multiplying it by the activation quad broadcast to all lanes accumulates
// 16 rows' dot products at once, exactly in int32, over a whole group (8 quads); only then is
// each lane converted to float and scaled, once per group and 16 rows. A panel is also one
// sequential stream of bytes, which is what the hardware prefetchers follow best.
//
// Scales: fp16, [panel][group][32 rows], one 64-byte line per panel and group.
#ifndef SLLM_SERVICES_WORKER_QUANT_PANEL_LAYOUT_H_
#define SLLM_SERVICES_WORKER_QUANT_PANEL_LAYOUT_H_

#include <cstdint>

#include "services/worker/quant/quantized_matrix.h"

namespace sllm::worker::quant::internal {

inline constexpr int64_t kGroupSize = 32;  // Inputs per scale.
inline constexpr int64_t kPanelRows = 32;  // Rows per panel.
inline constexpr int64_t kQuads = 8;       // Quads per group.

// Bytes of one panel's group: 32 rows x 32 values.
inline constexpr int64_t GroupBytes(QuantType type) {
  return type == QuantType::kInt8 ? kPanelRows * kGroupSize : kPanelRows * kGroupSize / 2;
}
// Byte offset, inside a panel's group, of row `p` (0..31) and input `k` (0..31); for int4
// the value is in the low nibble for p < 16, else in the high one.
inline constexpr int64_t Int8Offset(int p, int k) {
  return (k / 4) * 128 + (p / 16) * 64 + (p % 16) * 4 + k % 4;
}
inline constexpr int64_t Int4Offset(int p, int k) { return (k / 4) * 64 + (p % 16) * 4 + k % 4; }

inline constexpr int64_t PanelsForRows(int64_t rows) {
  return (rows + kPanelRows - 1) / kPanelRows;
}

}  // namespace sllm::worker::quant::internal

#endif  // SLLM_SERVICES_WORKER_QUANT_PANEL_LAYOUT_H_
