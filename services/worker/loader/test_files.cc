#include "services/worker/loader/test_files.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace sllm::worker::testing {

ScratchDir::ScratchDir() {
  std::string templ = ::testing::TempDir() + "sllm_worker_XXXXXX";
  char* made = ::mkdtemp(templ.data());
  EXPECT_NE(made, nullptr) << "mkdtemp " << templ;
  path_ = templ;
}

ScratchDir::~ScratchDir() {
  // nftw rather than std::filesystem::remove_all: PyTorch's libtorch.so (2.11 wheels) exports
  // its own std::filesystem symbols, and its remove_all crashes the device check's tests.
  ::nftw(
      path_.c_str(),
      [](const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }, 16,
      FTW_DEPTH | FTW_PHYS);
}

std::string ScratchDir::Write(std::string_view name, std::string_view bytes) const {
  std::string full = path_ + "/" + std::string(name);
  std::filesystem::create_directories(std::filesystem::path(full).parent_path());
  std::ofstream out(full, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  EXPECT_TRUE(out.good()) << "writing " << full;
  return full;
}

std::string SafetensorsBytes(std::string_view header, std::string_view data,
                             int64_t declared_length) {
  uint64_t length = declared_length >= 0 ? static_cast<uint64_t>(declared_length) : header.size();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  out.append(header);
  out.append(data);
  return out;
}

std::string FloatBytes(int n, float start) {
  std::string out(static_cast<size_t>(n) * 4, '\0');
  for (int i = 0; i < n; ++i) {
    float v = start + static_cast<float>(i);
    std::memcpy(out.data() + 4 * i, &v, 4);
  }
  return out;
}

}  // namespace sllm::worker::testing
