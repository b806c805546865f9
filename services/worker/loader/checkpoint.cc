#include "services/worker/loader/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/common/status_macros.h"
#include "services/worker/loader/json_fields.h"

namespace sllm::worker {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// A shard name must be a plain relative path that stays inside the index's folder.
bool IsSafeRelativePath(const std::string& name) {
  fs::path p(name);
  if (name.empty() || p.is_absolute()) return false;
  for (const fs::path& part : p) {
    if (part == "..") return false;
  }
  return true;
}

// weight_map of an index file: tensor -> shard file name.
absl::StatusOr<std::map<std::string, std::string>> ParseWeightMap(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("not a valid JSON object");
  }
  if (!j.contains("weight_map") || !j["weight_map"].is_object()) {
    return absl::InvalidArgumentError("no \"weight_map\" object");
  }
  std::map<std::string, std::string> out;
  for (const auto& [tensor, file] : j["weight_map"].items()) {
    if (!file.is_string() || !IsSafeRelativePath(file.get<std::string>())) {
      return absl::InvalidArgumentError(absl::StrCat("weight_map entry '", tensor,
                                                     "' is not a relative file name: ",
                                                     file.dump()));
    }
    out[tensor] = file.get<std::string>();
  }
  if (out.empty()) return absl::InvalidArgumentError("weight_map is empty");
  return out;
}

}  // namespace

absl::Status Checkpoint::AddFile(std::unique_ptr<SafetensorsFile> file) {
  for (const TensorView& t : file->tensors()) {
    auto [it, inserted] = tensors_.emplace(t.name, &t);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", t.name, "' is in both ",
                                                     file->path(), " and another shard"));
    }
  }
  files_.push_back(std::move(file));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Checkpoint>> Checkpoint::OpenFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> file, SafetensorsFile::Open(path));
  std::unique_ptr<Checkpoint> checkpoint(new Checkpoint());
  RETURN_IF_ERROR(checkpoint->AddFile(std::move(file)));
  return checkpoint;
}

absl::StatusOr<std::unique_ptr<Checkpoint>> Checkpoint::OpenIndex(const std::string& index_path) {
  ASSIGN_OR_RETURN(std::string text, json_fields::ReadTextFile(index_path));
  auto weight_map = ParseWeightMap(text);
  if (!weight_map.ok()) {
    return absl::Status(weight_map.status().code(),
                        absl::StrCat(index_path, ": ", weight_map.status().message()));
  }
  const fs::path dir = fs::path(index_path).parent_path();
  std::unique_ptr<Checkpoint> checkpoint(new Checkpoint());
  std::map<std::string, const SafetensorsFile*> opened;
  for (const auto& [tensor, name] : *weight_map) {
    if (opened.contains(name)) continue;
    ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> file,
                     SafetensorsFile::Open((dir / name).string()));
    opened[name] = file.get();
    RETURN_IF_ERROR(checkpoint->AddFile(std::move(file)));
  }
  for (const auto& [tensor, name] : *weight_map) {
    if (opened[name]->Find(tensor) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(index_path, ": weight_map puts tensor '",
                                                     tensor, "' in ", name,
                                                     ", which does not contain it"));
    }
  }
  return checkpoint;
}

absl::StatusOr<std::unique_ptr<Checkpoint>> Checkpoint::OpenDir(const std::string& model_dir) {
  const fs::path dir(model_dir);
  const fs::path index = dir / std::string(kIndexFile);
  if (fs::exists(index)) return OpenIndex(index.string());
  const fs::path single = dir / std::string(kSingleFile);
  if (fs::exists(single)) return OpenFile(single.string());
  return absl::NotFoundError(absl::StrCat("no ", std::string(kSingleFile), " or ", std::string(kIndexFile), " in ",
                                          model_dir));
}

const TensorView* Checkpoint::Find(std::string_view name) const {
  auto it = tensors_.find(absl::string_view(name.data(), name.size()));
  return it == tensors_.end() ? nullptr : it->second;
}

std::vector<std::string> Checkpoint::Names() const {
  std::vector<std::string> names;
  names.reserve(tensors_.size());
  for (const auto& [name, view] : tensors_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace sllm::worker
