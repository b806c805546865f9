#include "services/worker/loader/test_files.h"

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
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
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
