// Test helpers: a scratch folder and hand-written safetensors files (corrupt ones included).
#ifndef SLLM_SERVICES_WORKER_LOADER_TEST_FILES_H_
#define SLLM_SERVICES_WORKER_LOADER_TEST_FILES_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace sllm::worker::testing {

// A fresh empty folder under the test temp dir, removed on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `bytes` to path()/name and returns the full path.
  std::string Write(std::string_view name, std::string_view bytes) const;

 private:
  std::string path_;
};

// A safetensors file image: the 8-byte little-endian length of `header`, `header`, `data`.
// `declared_length` overrides the length field when given.
std::string SafetensorsBytes(std::string_view header, std::string_view data,
                             int64_t declared_length = -1);

// `n` float32 values 0, 1, 2, ... as little-endian bytes.
std::string FloatBytes(int n, float start = 0.0f);

}  // namespace sllm::worker::testing

#endif  // SLLM_SERVICES_WORKER_LOADER_TEST_FILES_H_
