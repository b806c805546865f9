#include "services/worker/model/model_options.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/util/Exception.h>

#include "absl/strings/str_cat.h"

namespace sllm::worker {

absl::StatusOr<c10::ScalarType> ParseServingDType(std::string_view name) {
  if (name == "float32" || name == "fp32" || name == "float") return c10::ScalarType::Float;
  if (name == "bfloat16" || name == "bf16") return c10::ScalarType::BFloat16;
  if (name == "float16" || name == "fp16" || name == "half") return c10::ScalarType::Half;
  return absl::InvalidArgumentError(absl::StrCat(
      "unsupported serving dtype '", std::string(name), "' (supported: float32, bfloat16, float16)"));
}

absl::StatusOr<std::optional<quant::QuantType>> ParseQuantize(std::string_view name) {
  if (name.empty() || name == "none") return std::optional<quant::QuantType>();
  if (auto type = quant::ParseQuantType(name)) return type;
  return absl::InvalidArgumentError(absl::StrCat("quantize must be none, int8 or int4, got '",
                                                 std::string(name), "'"));
}

absl::StatusOr<c10::Device> ParseDevice(const std::string& name) {
  c10::Device device(c10::DeviceType::CPU);
  try {
    device = c10::Device(name);
  } catch (const c10::Error&) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid device '", name, "' (expected cpu, cuda or cuda:N)"));
  }
  if (device.is_cpu()) return device;
  if (!device.is_cuda()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported device '", name, "' (expected cpu, cuda or cuda:N)"));
  }
  if (!at::hasCUDA()) {
    return absl::FailedPreconditionError(
        absl::StrCat("device '", name, "' requested but libtorch has no usable CUDA"));
  }
  const int count = at::detail::getCUDAHooks().getNumGPUs();
  if (device.has_index() && device.index() >= count) {
    return absl::FailedPreconditionError(
        absl::StrCat("device '", name, "' requested but only ", count, " GPUs are visible"));
  }
  if (!device.has_index()) device.set_index(0);
  return device;
}

}  // namespace sllm::worker
