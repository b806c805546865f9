// A safetensors file (https://huggingface.co/docs/safetensors) memory-mapped read-only:
// an 8-byte little-endian header length N, N bytes of JSON header
// {"__metadata__": {str: str}, NAME: {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}},
// then the data section; offsets are relative to the data section.
//
// Open() validates everything before any tensor byte is exposed: header length inside the file,
// well-formed JSON, known dtypes, non-negative integer shapes, offsets inside the data section
// whose length equals numel * dtype size, no two tensors overlapping, no duplicate names.
// Errors are INVALID_ARGUMENT naming the file, the tensor and the offending value; a corrupt
// file never crashes the process or reads out of bounds.
#ifndef SLLM_SERVICES_WORKER_LOADER_SAFETENSORS_H_
#define SLLM_SERVICES_WORKER_LOADER_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "services/worker/loader/dtype.h"
#include "services/worker/loader/mapped_file.h"

namespace sllm::worker {

// One tensor of a checkpoint: where its bytes are in a mapped file. Valid while the file that
// produced it is open.
struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // Little-endian, row-major; alignment not guaranteed.
  size_t nbytes = 0;

  int64_t numel() const;
};

class SafetensorsFile {
 public:
  // Header JSON larger than this is rejected (as the reference implementation does).
  static constexpr uint64_t kMaxHeaderBytes = 100'000'000;

  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  // The same over the bytes of `file` (e.g. MappedFile::Borrow of a file held in memory).
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(std::unique_ptr<MappedFile> file);

  // The tensor called `name`, or nullptr.
  const TensorView* Find(std::string_view name) const;
  // All tensors, sorted by name.
  const std::vector<TensorView>& tensors() const { return tensors_; }
  // The "__metadata__" map (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return file_->path(); }

 private:
  explicit SafetensorsFile(std::unique_ptr<MappedFile> file) : file_(std::move(file)) {}
  absl::Status ParseHeader();

  std::unique_ptr<MappedFile> file_;
  std::vector<TensorView> tensors_;
  absl::flat_hash_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_LOADER_SAFETENSORS_H_
