// Test helpers for the model tests: loading the test models, running GenerateGreedy with a
// cache of its own, reading the reference files.
#ifndef SLLM_SERVICES_WORKER_MODEL_MODEL_TEST_UTIL_H_
#define SLLM_SERVICES_WORKER_MODEL_MODEL_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "nlohmann/json.hpp"
#include "services/worker/model/greedy.h"
#include "services/worker/model/model_loader.h"

namespace sllm::worker::testing {

inline const std::string kStoriesDir = std::string(SLLM_MODELS_DIR) + "/stories260K";
inline const std::string kTinyLlama3Dir = std::string(SLLM_TESTDATA_DIR) + "/models/tiny-llama3";

// Torch intra-op threads for the tests (explicit: libtorch's default here is 1).
constexpr int kTestThreads = 1;
void SetTestThreads();

// Loads a model folder on `device` in `dtype`; aborts the test binary on error.
LoadedModel LoadTestModel(const std::string& dir, c10::ScalarType dtype,
                          c10::Device device = c10::Device(c10::DeviceType::CPU));

// GenerateGreedy with a fresh KV cache of `block_size`-token blocks, just large enough.
GreedyResult Greedy(CausalLM& model, const std::vector<int64_t>& prompt,
                    const GreedyOptions& options, int64_t block_size = 16);

nlohmann::json ReadJsonFile(const std::string& path);
// A raw little-endian float32 file as a [rows, cols] tensor.
at::Tensor ReadF32File(const std::string& path, int64_t rows, int64_t cols);

std::vector<int64_t> Ids(const nlohmann::json& array);

}  // namespace sllm::worker::testing

#endif  // SLLM_SERVICES_WORKER_MODEL_MODEL_TEST_UTIL_H_
