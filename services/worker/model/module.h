// A minimal module tree (like torch::nn::Module without autograd, and without the compile cost
// of <torch/torch.h>): each module owns named parameters and named child modules, so that
// NamedParameters() yields the checkpoint keys ("model.layers.0.self_attn.q_proj.weight").
// Parameters are allocated on construction in the serving dtype and device and filled by
// LoadWeights (weight_loader.h).
#ifndef SLLM_SERVICES_WORKER_MODEL_MODULE_H_
#define SLLM_SERVICES_WORKER_MODEL_MODULE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace sllm::worker {

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Every parameter of this module and its descendants, depth first in registration order,
  // named by the dotted path from this module.
  std::vector<std::pair<std::string, at::Tensor>> NamedParameters() const;

  // Calls `fn` on this module and every descendant, depth first.
  void Visit(const std::function<void(Module&)>& fn);

  // Bytes of weights this module and its descendants hold in memory: their parameters and
  // any weights kept in another form (quantized linear layers).
  int64_t WeightBytes() const;

 protected:
  // Registers `tensor` under `name`; returns it (a handle sharing its storage).
  at::Tensor RegisterParameter(std::string name, at::Tensor tensor);
  // Forgets the parameter `name` (its tensor is freed when no other handle holds it).
  void DropParameter(const std::string& name);
  // Bytes held outside the registered parameters (e.g. quantized weights).
  virtual int64_t ExtraWeightBytes() const { return 0; }
  // Takes ownership of `child` under `name` and returns it.
  template <typename M>
  M* RegisterModule(std::string name, std::unique_ptr<M> child) {
    M* raw = child.get();
    children_.emplace_back(std::move(name), std::move(child));
    return raw;
  }

 private:
  void CollectParameters(const std::string& prefix,
                         std::vector<std::pair<std::string, at::Tensor>>& out) const;

  std::vector<std::pair<std::string, at::Tensor>> parameters_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
};

// A module that only groups children (e.g. "layers" holding "0", "1", ...).
class ModuleList : public Module {
 public:
  template <typename M>
  M* Append(std::unique_ptr<M> child) {
    return RegisterModule(std::to_string(size_++), std::move(child));
  }
  size_t size() const { return size_; }

 private:
  size_t size_ = 0;
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_MODULE_H_
