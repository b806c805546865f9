// Where and in which dtype a model runs.
#ifndef SLLM_SERVICES_WORKER_MODEL_MODEL_OPTIONS_H_
#define SLLM_SERVICES_WORKER_MODEL_MODEL_OPTIONS_H_

#include <optional>
#include <string>
#include <string_view>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "absl/status/statusor.h"
#include "services/worker/quant/quantized_matrix.h"

namespace sllm::worker {

struct ModelOptions {
  // Serving dtype of weights and activations: Float, BFloat16 or Half. Checkpoint tensors
  // (F32/F16/BF16 on disk) are cast to it on load. RMSNorm and softmax run in float32 and the
  // returned logits are float32 whatever the dtype. libtorch 1.13 has no float16 matmul on CPU:
  // Half is for CUDA.
  c10::ScalarType dtype = c10::ScalarType::Float;
  // "cpu" or "cuda:N".
  c10::Device device = c10::Device(c10::DeviceType::CPU);
  // Weight-only quantization of every linear layer at load (int8 like Q8_0, int4 like Q4_0;
  // services/worker/quant); activations stay in `dtype`. CPU only.
  std::optional<quant::QuantType> quantize;
};

// "none" (nullopt), "int8", "int4".
absl::StatusOr<std::optional<quant::QuantType>> ParseQuantize(std::string_view name);

// "float32"/"fp32"/"float", "bfloat16"/"bf16", "float16"/"fp16"/"half".
absl::StatusOr<c10::ScalarType> ParseServingDType(std::string_view name);
// "cpu", "cuda", "cuda:N"; a CUDA device needs a CUDA build of libtorch and the GPU present.
absl::StatusOr<c10::Device> ParseDevice(const std::string& name);

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_MODEL_OPTIONS_H_
