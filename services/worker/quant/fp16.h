// IEEE binary16 ("fp16") and bfloat16 <-> float, portable (no F16C needed). The quantized
// matrices store their group scales as fp16; weights may arrive as bf16 or fp16.
#ifndef SLLM_SERVICES_WORKER_QUANT_FP16_H_
#define SLLM_SERVICES_WORKER_QUANT_FP16_H_

#include <bit>
#include <cstdint>

namespace sllm::worker::quant {

// Exact: every fp16 value is a float.
inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1f;
  const uint32_t mantissa = h & 0x3ff;
  if (exponent == 0) {  // Zero or subnormal: mantissa * 2^-24.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return std::bit_cast<float>(std::bit_cast<uint32_t>(magnitude) | sign);
  }
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7f800000 | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// Round to nearest, ties to even; beyond the fp16 range gives +-inf, NaN stays NaN.
// (F. Giesen's float_to_half_fast3_rtne.)
inline uint16_t FloatToHalf(float value) {
  uint32_t f = std::bit_cast<uint32_t>(value);
  const uint32_t sign = f & 0x80000000u;
  f ^= sign;
  uint32_t h;
  if (f >= 0x47800000u) {  // >= 65536 (all of these round to inf), inf or NaN.
    h = f > 0x7f800000u ? 0x7e00u : 0x7c00u;
  } else if (f < 0x38800000u) {  // Below the smallest normal fp16 (2^-14): subnormal or 0.
    // Adding 0.5f aligns the fp16 subnormal grid with the float's last mantissa bits; the
    // float addition does the rounding.
    const float shifted = std::bit_cast<float>(f) + 0.5f;
    h = std::bit_cast<uint32_t>(shifted) - 0x3f000000u;
  } else {
    const uint32_t mantissa_odd = (f >> 13) & 1;
    f += (static_cast<uint32_t>(15 - 127) << 23) + 0xfff;  // Rebias, round half up...
    f += mantissa_odd;                                     // ...or to even on a tie.
    h = f >> 13;
  }
  return static_cast<uint16_t>(h | (sign >> 16));
}

// The smallest fp16 >= `value` (value >= 0 and finite); +inf when none is finite.
inline uint16_t FloatToHalfRoundUp(float value) {
  uint16_t h = FloatToHalf(value);
  if (HalfToFloat(h) < value) ++h;  // Positive fp16 bit patterns increase with the value.
  return h;
}

// bf16 is the top half of a float.
inline float Bf16ToFloat(uint16_t b) {
  return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

}  // namespace sllm::worker::quant

#endif  // SLLM_SERVICES_WORKER_QUANT_FP16_H_
