#include "services/worker/model/module.h"

namespace sllm::worker {

std::vector<std::pair<std::string, at::Tensor>> Module::NamedParameters() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  CollectParameters("", out);
  return out;
}

at::Tensor Module::RegisterParameter(std::string name, at::Tensor tensor) {
  parameters_.emplace_back(std::move(name), tensor);
  return tensor;
}

void Module::CollectParameters(const std::string& prefix,
                               std::vector<std::pair<std::string, at::Tensor>>& out) const {
  for (const auto& [name, tensor] : parameters_) out.emplace_back(prefix + name, tensor);
  for (const auto& [name, child] : children_) child->CollectParameters(prefix + name + ".", out);
}

}  // namespace sllm::worker
