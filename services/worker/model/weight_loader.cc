#include "services/worker/model/weight_loader.h"

#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <c10/core/InferenceMode.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sllm::worker {
namespace {

c10::ScalarType TorchType(DType dtype) {
  switch (dtype) {
    case DType::kF16:
      return c10::ScalarType::Half;
    case DType::kBF16:
      return c10::ScalarType::BFloat16;
    default:
      return c10::ScalarType::Float;
  }
}

std::string ShapeString(at::IntArrayRef shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// A CPU tensor over the mapped bytes of `view` (copied when they are not aligned for the
// element type, which safetensors does not guarantee).
at::Tensor CpuTensor(const TensorView& view) {
  const auto options = at::TensorOptions().dtype(TorchType(view.dtype));
  const size_t align = DTypeSize(view.dtype);
  if (reinterpret_cast<uintptr_t>(view.data) % align == 0) {
    // from_blob wants a mutable pointer; the tensor is only read (the copy source).
    return at::from_blob(const_cast<uint8_t*>(view.data), view.shape, options);
  }
  at::Tensor aligned = at::empty(view.shape, options);
  std::memcpy(aligned.data_ptr(), view.data, view.nbytes);
  return aligned;
}

std::string Section(const char* title, const std::vector<std::string>& items) {
  return absl::StrCat(items.size(), " ", title, ": ", absl::StrJoin(items, ", "));
}

}  // namespace

absl::Status LoadWeights(const Module& model, const Checkpoint& checkpoint,
                         const std::function<bool(std::string_view)>& ignored) {
  const auto parameters = model.NamedParameters();
  std::vector<std::string> missing, unexpected, mismatched, uncastable;
  std::set<std::string> wanted;
  for (const auto& [name, param] : parameters) {
    wanted.insert(name);
    const TensorView* view = checkpoint.Find(name);
    if (view == nullptr) {
      missing.push_back(name);
      continue;
    }
    if (!IsFloatingWeightDType(view->dtype)) {
      uncastable.push_back(absl::StrCat(name, " (", std::string(DTypeName(view->dtype)), ")"));
    }
    if (at::IntArrayRef(view->shape) != param.sizes()) {
      mismatched.push_back(absl::StrCat(name, " (checkpoint ", ShapeString(view->shape),
                                        ", model ", ShapeString(param.sizes()), ")"));
    }
  }
  for (const std::string& name : checkpoint.Names()) {
    if (!wanted.contains(name) && !ignored(name)) unexpected.push_back(name);
  }
  std::vector<std::string> problems;
  if (!missing.empty()) problems.push_back(Section("missing tensors", missing));
  if (!unexpected.empty()) problems.push_back(Section("unexpected tensors", unexpected));
  if (!mismatched.empty()) problems.push_back(Section("shape mismatches", mismatched));
  if (!uncastable.empty()) problems.push_back(Section("tensors of non-float dtype", uncastable));
  if (!problems.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint does not match the model: ", absl::StrJoin(problems, "; ")));
  }
  c10::InferenceMode guard;
  for (const auto& [name, param] : parameters) {
    at::Tensor target = param;  // A handle to the parameter's storage.
    target.copy_(CpuTensor(*checkpoint.Find(name)));
  }
  return absl::OkStatus();
}

}  // namespace sllm::worker
