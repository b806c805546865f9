// Weight-only quantization of a linear layer's weight W [rows = out_features, cols =
// in_features] (y = x W^T), in groups of 32 consecutive values along a row (the input dim):
//
//   int8: symmetric, like llama.cpp Q8_0. d = absmax / 127, q = round(w / d) in -127..127.
//         |w - q*d| <= d/2. 1.0625 bytes per weight (32 bytes + one fp16 scale per group).
//   int4: symmetric with 16 levels, like llama.cpp Q4_0. The value of largest magnitude, m, is
//         made exactly representable as q = -8: d = m / -8 (d carries m's sign), q = round(w /
//         d) clamped to -8..7. |w - q*d| <= |d|/2, except for values of the opposite sign than
//         m beyond 7.5|d|, which clip to q = 7 with an error <= |d|. 0.5625 bytes per weight.
//
// Scales are fp16 (IEEE binary16), not fp32: decode streams the whole matrix once per token,
// so bytes are time, and fp32 scales would add 6% (int8) / 11% (int4) to every byte read. The
// fp16 rounding is harmless: the stored scale is the stored d exactly (values are quantized
// against the rounded scale, whose magnitude is rounded *up* so no value overflows the range),
// and fp16 keeps 11 significant bits against the 8 or 4 of the values. fp16's range covers
// |w| <= 8.3e6 (int8) / 5.2e5 (int4); group maxima below ~1e-5 get subnormal scales with fewer
// significant bits, which only adds relative error to weights that are ~0 anyway.
//
// Why Q4_0 and not Q4_1 (per-group min and scale): on Gaussian / Laplace / Student-t(3)
// weights Q4_1 has 9% / 14% / 21% lower RMS error than this Q4_0 (relative RMS error 0.078 vs
// 0.086 on Gaussian) but stores 20 bytes per group instead of 18: 11% more bytes to stream
// per token. int4 is the "smallest and fastest" choice; int8 (relative RMS error 0.005) is the
// accurate one.
//
// The storage order is internal (panel_layout.h): rows padded to a multiple of 32 and
// interleaved in panels of 32 rows for the SIMD kernels; only MatMul and Dequantize read it.
#ifndef SLLM_SERVICES_WORKER_QUANT_QUANTIZED_MATRIX_H_
#define SLLM_SERVICES_WORKER_QUANT_QUANTIZED_MATRIX_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/worker/quant/aligned_buffer.h"

namespace sllm::worker::quant {

enum class QuantType : uint8_t { kInt8, kInt4 };

// "int8", "int4".
std::string_view QuantTypeName(QuantType type);
// The type named "int8" or "int4", nullopt otherwise.
std::optional<QuantType> ParseQuantType(std::string_view name);

// Element type of the weights handed to Quantize.
enum class WeightFormat : uint8_t { kFloat32, kBFloat16, kFloat16 };

class QuantizedMatrix {
 public:
  static constexpr int64_t kGroupSize = 32;
  static constexpr int64_t kPanelRows = 32;

  QuantizedMatrix() = default;  // 0 x 0.
  QuantizedMatrix(QuantizedMatrix&&) noexcept = default;
  QuantizedMatrix& operator=(QuantizedMatrix&&) noexcept = default;

  int64_t rows() const { return rows_; }  // Output features.
  int64_t cols() const { return cols_; }  // Input features, a multiple of kGroupSize.
  QuantType type() const { return type_; }
  // Bytes held for values and scales (padding rows included): the memory footprint, and the
  // bytes one MatMul streams.
  int64_t ByteSize() const;
  // The step d of group `group` (columns 32*group .. 32*group+31) of `row`: w ~ q * d. Negative
  // for int4 groups whose largest-magnitude value is positive.
  float scale(int64_t row, int64_t group) const;

  // The storage (panel_layout.h), for the kernels: panels of 32 rows.
  int64_t panels() const { return (rows_ + kPanelRows - 1) / kPanelRows; }
  const uint8_t* panel_data(int64_t panel) const { return data_.data() + panel * panel_bytes_; }
  const uint16_t* panel_scales(int64_t panel) const {
    return scales_.data() + panel * (cols_ / kGroupSize) * kPanelRows;
  }

 private:
  friend absl::StatusOr<QuantizedMatrix> Quantize(const void* w, WeightFormat format, int64_t rows,
                                                  int64_t cols, QuantType type);

  int64_t rows_ = 0;
  int64_t cols_ = 0;
  QuantType type_ = QuantType::kInt8;
  int64_t panel_bytes_ = 0;
  internal::AlignedBuffer<uint8_t> data_;
  internal::AlignedBuffer<uint16_t> scales_;
};

// Quantizes the row-major `rows` x `cols` matrix at `w` (elements of `format`). Errors
// (InvalidArgument): cols not a positive multiple of 32 (real models' input dims all are:
// pad the weight and the activations with zero columns otherwise), rows < 0, a NaN or
// infinite weight, or a group too large for an fp16 scale. Uses the OpenMP threads.
absl::StatusOr<QuantizedMatrix> Quantize(const void* w, WeightFormat format, int64_t rows,
                                         int64_t cols, QuantType type);
inline absl::StatusOr<QuantizedMatrix> Quantize(const float* w, int64_t rows, int64_t cols,
                                                QuantType type) {
  return Quantize(w, WeightFormat::kFloat32, rows, cols, type);
}

// The dequantized weights q * d, row-major into `out` [rows * cols] (tests, fallbacks).
void Dequantize(const QuantizedMatrix& w, float* out);
// One row of them into `out` [cols].
void DequantizeRow(const QuantizedMatrix& w, int64_t row, float* out);

}  // namespace sllm::worker::quant

#endif  // SLLM_SERVICES_WORKER_QUANT_QUANTIZED_MATRIX_H_
