// Element types of safetensors files ("F32", "BF16", ...), independent of libtorch.
#ifndef SLLM_SERVICES_WORKER_LOADER_DTYPE_H_
#define SLLM_SERVICES_WORKER_LOADER_DTYPE_H_

#include <cstddef>
#include <optional>
#include <string_view>

namespace sllm::worker {

enum class DType {
  kBool,
  kU8,
  kI8,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kF64,
  kI64,
  kU64,
};

// The dtype of a safetensors "dtype" string, or nullopt when unknown (e.g. "F8_E4M3").
std::optional<DType> ParseDType(std::string_view name);
// The safetensors spelling ("F32", "BF16", ...).
std::string_view DTypeName(DType dtype);
// Bytes per element.
size_t DTypeSize(DType dtype);
// Whether weights of this dtype can be cast to a floating serving dtype (F32, F16, BF16).
bool IsFloatingWeightDType(DType dtype);

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_LOADER_DTYPE_H_
