// A whole file mapped read-only into memory (mmap), unmapped on destruction.
#ifndef SLLM_SERVICES_WORKER_LOADER_MAPPED_FILE_H_
#define SLLM_SERVICES_WORKER_LOADER_MAPPED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace sllm::worker {

class MappedFile {
 public:
  // Maps `path` read-only. Errors name the path and the system error. An empty file maps to
  // size() == 0 and data() == nullptr.
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path);
  // Wraps `size` bytes at `data` that the caller owns and keeps alive (nothing is unmapped);
  // `name` stands for the path in messages. For parsing files held in memory (the fuzzers).
  static std::unique_ptr<MappedFile> Borrow(std::string name, const uint8_t* data, size_t size);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size, bool owned)
      : path_(std::move(path)), data_(data), size_(size), owned_(owned) {}

  std::string path_;
  const uint8_t* data_;
  size_t size_;
  bool owned_;  // Mapped by Open(): unmapped on destruction.
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_LOADER_MAPPED_FILE_H_
