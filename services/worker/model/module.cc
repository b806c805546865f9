#include "services/worker/model/module.h"

namespace sllm::worker {

std::vector<std::pair<std::string, at::Tensor>> Module::NamedParameters() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  CollectParameters("", out);
  return out;
}

void Module::Visit(const std::function<void(Module&)>& fn) {
  fn(*this);
  for (auto& [name, child] : children_) child->Visit(fn);
}

int64_t Module::WeightBytes() const {
  int64_t bytes = ExtraWeightBytes();
  for (const auto& [name, tensor] : parameters_) bytes += tensor.nbytes();
  for (const auto& [name, child] : children_) bytes += child->WeightBytes();
  return bytes;
}

void Module::DropParameter(const std::string& name) {
  std::erase_if(parameters_, [&](const auto& p) { return p.first == name; });
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
