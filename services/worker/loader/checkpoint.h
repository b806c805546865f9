// The weights of a Hugging Face model folder: `model.safetensors`, or the shards listed by
// `model.safetensors.index.json` ({"metadata": {...}, "weight_map": {tensor: file}}), all
// memory-mapped, seen as one name -> tensor map.
#ifndef SLLM_SERVICES_WORKER_LOADER_CHECKPOINT_H_
#define SLLM_SERVICES_WORKER_LOADER_CHECKPOINT_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "services/worker/loader/safetensors.h"

namespace sllm::worker {

class Checkpoint {
 public:
  static constexpr std::string_view kSingleFile = "model.safetensors";
  static constexpr std::string_view kIndexFile = "model.safetensors.index.json";

  // Opens `model_dir`/model.safetensors.index.json when present, else
  // `model_dir`/model.safetensors; NOT_FOUND names both when neither exists.
  static absl::StatusOr<std::unique_ptr<Checkpoint>> OpenDir(const std::string& model_dir);
  // One safetensors file.
  static absl::StatusOr<std::unique_ptr<Checkpoint>> OpenFile(const std::string& path);
  // A sharded index. Shard file names are relative to the index's folder and may not leave it.
  // Every tensor of the weight map must be in its shard; a tensor in two shards is an error.
  static absl::StatusOr<std::unique_ptr<Checkpoint>> OpenIndex(const std::string& index_path);

  // The tensor called `name`, or nullptr.
  const TensorView* Find(std::string_view name) const;
  // All tensor names, sorted.
  std::vector<std::string> Names() const;
  size_t size() const { return tensors_.size(); }
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  Checkpoint() = default;
  absl::Status AddFile(std::unique_ptr<SafetensorsFile> file);

  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  absl::flat_hash_map<std::string, const TensorView*> tensors_;
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_LOADER_CHECKPOINT_H_
