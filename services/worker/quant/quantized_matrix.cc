#include "services/worker/quant/quantized_matrix.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "services/worker/quant/fp16.h"
#include "services/worker/quant/panel_layout.h"

namespace sllm::worker::quant {
namespace {

using internal::GroupBytes;
using internal::Int4Offset;
using internal::Int8Offset;
using internal::kGroupSize;
using internal::kPanelRows;
using internal::PanelsForRows;

// Why a row could not be quantized.
enum class RowError { kNone, kNotFinite, kScaleOverflow };

// Round to nearest, ties to even, for |v| < 2^22: adding 1.5 * 2^23 leaves no fraction bits,
// so the float addition rounds (default rounding mode). std::nearbyint is a libm call on
// generic x86-64; this vectorizes.
inline float RoundToNearestEven(float v) { return (v + 0x1.8p23f) - 0x1.8p23f; }

// max |w| over a group as a bit pattern; above 0x7f7fffff means a NaN or an infinity.
inline uint32_t AbsMaxBits(const float* w) {
  uint32_t amax = 0;
  for (int k = 0; k < kGroupSize; ++k) {
    amax = std::max(amax, std::bit_cast<uint32_t>(w[k]) & 0x7fffffffu);
  }
  return amax;
}

// q = w / d rounded to nearest even and clamped to [lo, hi]; all zero when the step d is 0.
void QuantizeWithStep(const float* w, float d, float lo, float hi, int8_t* q) {
  if (d == 0) {
    std::fill(q, q + kGroupSize, 0);
    return;
  }
  for (int k = 0; k < kGroupSize; ++k) {
    q[k] = static_cast<int8_t>(std::clamp(RoundToNearestEven(w[k] / d), lo, hi));
  }
}

// Quantizes one group of 32 values (natural order) to `q` with the fp16 scale `*scale`.
RowError QuantizeGroupInt8(const float* w, int8_t* q, uint16_t* scale) {
  const uint32_t amax_bits = AbsMaxBits(w);
  if (amax_bits > 0x7f7fffffu) return RowError::kNotFinite;
  *scale = FloatToHalfRoundUp(std::bit_cast<float>(amax_bits) / 127.0f);
  if (*scale >= 0x7c00) return RowError::kScaleOverflow;
  QuantizeWithStep(w, HalfToFloat(*scale), -127.0f, 127.0f, q);
  return RowError::kNone;
}

// Q4_0: the largest-magnitude value m maps to -8 exactly (d = m / -8). q in -8..7.
RowError QuantizeGroupInt4(const float* w, int8_t* q, uint16_t* scale) {
  const uint32_t amax_bits = AbsMaxBits(w);
  if (amax_bits > 0x7f7fffffu) return RowError::kNotFinite;
  int first_max = 0;  // The first value of largest magnitude, as llama.cpp picks it.
  while ((std::bit_cast<uint32_t>(w[first_max]) & 0x7fffffffu) != amax_bits) ++first_max;
  const float m = w[first_max];
  const uint16_t magnitude = FloatToHalfRoundUp(std::fabs(m) / 8.0f);
  if (magnitude >= 0x7c00) return RowError::kScaleOverflow;
  *scale = m > 0 ? static_cast<uint16_t>(magnitude | 0x8000) : magnitude;
  QuantizeWithStep(w, HalfToFloat(*scale), -8.0f, 7.0f, q);
  return RowError::kNone;
}

// Quantizes row `p` (0..31) of a panel from `cols` floats into the panel's data and scales.
RowError QuantizeRow(const float* w, int64_t cols, QuantType type, int p, uint8_t* panel,
                     uint16_t* panel_scales) {
  const int64_t groups = cols / kGroupSize;
  alignas(64) int8_t q[kGroupSize];
  for (int64_t g = 0; g < groups; ++g) {
    uint16_t* scale = &panel_scales[g * kPanelRows + p];
    const float* src = w + g * kGroupSize;
    const RowError error = type == QuantType::kInt8 ? QuantizeGroupInt8(src, q, scale)
                                                    : QuantizeGroupInt4(src, q, scale);
    if (error != RowError::kNone) return error;
    uint8_t* block = panel + g * GroupBytes(type);
    if (type == QuantType::kInt8) {
      for (int k = 0; k < kGroupSize; ++k) {
        block[Int8Offset(p, k)] = static_cast<uint8_t>(q[k] + 128);
      }
    } else {
      const int shift = p < 16 ? 0 : 4;
      const uint8_t keep = p < 16 ? 0xf0 : 0x0f;
      for (int k = 0; k < kGroupSize; ++k) {
        uint8_t& byte = block[Int4Offset(p, k)];
        byte = static_cast<uint8_t>((byte & keep) | ((q[k] + 8) << shift));
      }
    }
  }
  return RowError::kNone;
}

// Row `row` of `w` as floats: `w` itself for kFloat32, else converted into `buffer`.
const float* RowAsFloat(const void* w, WeightFormat format, int64_t row, int64_t cols,
                        std::vector<float>& buffer) {
  if (format == WeightFormat::kFloat32) return static_cast<const float*>(w) + row * cols;
  buffer.resize(cols);
  const uint16_t* src = static_cast<const uint16_t*>(w) + row * cols;
  for (int64_t k = 0; k < cols; ++k) {
    buffer[k] = format == WeightFormat::kBFloat16 ? Bf16ToFloat(src[k]) : HalfToFloat(src[k]);
  }
  return buffer.data();
}

// The message for a row that failed with `error`.
std::string RowErrorMessage(const float* w, int64_t row, int64_t cols, QuantType type,
                            RowError error) {
  if (error == RowError::kNotFinite) {
    for (int64_t k = 0; k < cols; ++k) {
      if (!std::isfinite(w[k])) {
        return absl::StrCat("cannot quantize weight [", row, ", ", k, "] = ", w[k], ": not finite");
      }
    }
  }
  float amax = 0;
  for (int64_t k = 0; k < cols; ++k) amax = std::max(amax, std::fabs(w[k]));
  return absl::StrCat("cannot quantize row ", row, " to ", std::string(QuantTypeName(type)),
                      ": |w| up to ", amax, " is too large for an fp16 group scale");
}

}  // namespace

std::string_view QuantTypeName(QuantType type) {
  return type == QuantType::kInt8 ? "int8" : "int4";
}

std::optional<QuantType> ParseQuantType(std::string_view name) {
  if (name == "int8") return QuantType::kInt8;
  if (name == "int4") return QuantType::kInt4;
  return std::nullopt;
}

int64_t QuantizedMatrix::ByteSize() const {
  return static_cast<int64_t>(data_.size() + scales_.size() * sizeof(uint16_t));
}

float QuantizedMatrix::scale(int64_t row, int64_t group) const {
  CHECK(row >= 0 && row < rows_ && group >= 0 && group < cols_ / kGroupSize)
      << "scale(" << row << ", " << group << ") of a " << rows_ << "x" << cols_ << " matrix";
  return HalfToFloat(panel_scales(row / kPanelRows)[group * kPanelRows + row % kPanelRows]);
}

absl::StatusOr<QuantizedMatrix> Quantize(const void* w, WeightFormat format, int64_t rows,
                                         int64_t cols, QuantType type) {
  if (rows < 0 || cols <= 0 || cols % kGroupSize != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot quantize a ", rows, "x", cols, " weight matrix [out_features, in_features] to ",
        std::string(QuantTypeName(type)), ": in_features must be a positive multiple of ",
        kGroupSize));
  }
  CHECK(w != nullptr || rows == 0);
  QuantizedMatrix out;
  out.rows_ = rows;
  out.cols_ = cols;
  out.type_ = type;
  const int64_t groups = cols / kGroupSize, panels = PanelsForRows(rows);
  out.panel_bytes_ = groups * GroupBytes(type);
  out.data_.Reset(panels * out.panel_bytes_);
  out.scales_.Reset(panels * groups * kPanelRows);
  // Padding rows hold q = 0 with scale 0. (No rows: no buffer, and memset of null is undefined.)
  if (out.data_.size() > 0) {
    std::memset(out.data_.data(), type == QuantType::kInt8 ? 0x80 : 0x88, out.data_.size());
  }

  // Panels are independent (rows of one panel share bytes); the first failing row (lowest
  // index) is reported.
  std::atomic<int64_t> first_bad_row{rows};
  std::atomic<int> first_error{0};
#pragma omp parallel if (rows * cols >= (int64_t{1} << 20))
  {
    std::vector<float> buffer;
#pragma omp for schedule(dynamic, 1)
    for (int64_t panel = 0; panel < panels; ++panel) {
      for (int64_t row = panel * kPanelRows; row < std::min(rows, (panel + 1) * kPanelRows);
           ++row) {
        if (row > first_bad_row.load(std::memory_order_relaxed)) break;
        const float* src = RowAsFloat(w, format, row, cols, buffer);
        const RowError error = QuantizeRow(src, cols, type, static_cast<int>(row % kPanelRows),
                                           out.data_.data() + panel * out.panel_bytes_,
                                           out.scales_.data() + panel * groups * kPanelRows);
        if (error == RowError::kNone) continue;
#pragma omp critical(sllm_quantize_error)
        if (row < first_bad_row.load()) {
          first_bad_row = row;
          first_error = static_cast<int>(error);
        }
        break;
      }
    }
  }
  if (first_bad_row.load() < rows) {
    std::vector<float> buffer;
    const int64_t row = first_bad_row.load();
    return absl::InvalidArgumentError(RowErrorMessage(RowAsFloat(w, format, row, cols, buffer), row,
                                                      cols, type,
                                                      static_cast<RowError>(first_error.load())));
  }
  return out;
}

void DequantizeRow(const QuantizedMatrix& w, int64_t row, float* out) {
  CHECK(row >= 0 && row < w.rows());
  const int64_t panel = row / kPanelRows;
  const int p = static_cast<int>(row % kPanelRows);
  const uint8_t* data = w.panel_data(panel);
  const uint16_t* scales = w.panel_scales(panel);
  for (int64_t g = 0; g < w.cols() / kGroupSize; ++g) {
    const float d = HalfToFloat(scales[g * kPanelRows + p]);
    const uint8_t* block = data + g * GroupBytes(w.type());
    for (int k = 0; k < kGroupSize; ++k) {
      int q;
      if (w.type() == QuantType::kInt8) {
        q = block[Int8Offset(p, k)] - 128;
      } else {
        const uint8_t byte = block[Int4Offset(p, k)];
        q = (p < 16 ? byte & 0x0f : byte >> 4) - 8;
      }
      out[g * kGroupSize + k] = static_cast<float>(q) * d;
    }
  }
}

void Dequantize(const QuantizedMatrix& w, float* out) {
  for (int64_t row = 0; row < w.rows(); ++row) DequantizeRow(w, row, out + row * w.cols());
}

}  // namespace sllm::worker::quant
