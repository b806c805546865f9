// Fills a model's parameters from a checkpoint, casting on-disk F32/F16/BF16 to each
// parameter's dtype and copying to its device.
#ifndef SLLM_SERVICES_WORKER_MODEL_WEIGHT_LOADER_H_
#define SLLM_SERVICES_WORKER_MODEL_WEIGHT_LOADER_H_

#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "services/worker/loader/checkpoint.h"
#include "services/worker/model/module.h"

namespace sllm::worker {

// Checks everything first and loads nothing on error: one INVALID_ARGUMENT that names every
// missing tensor, every unexpected one (in the checkpoint, not in the model, and not
// `ignored`), every shape mismatch and every tensor whose dtype cannot be cast.
absl::Status LoadWeights(const Module& model, const Checkpoint& checkpoint,
                         const std::function<bool(std::string_view)>& ignored);

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_WEIGHT_LOADER_H_
