#include "services/worker/model/model_test_util.h"

#include <fstream>
#include <sstream>

#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>

#include "gtest/gtest.h"
#include "services/worker/kv_cache/block_allocator.h"
#include "services/worker/kv_cache/kv_cache.h"

namespace sllm::worker::testing {

void SetTestThreads() { at::set_num_threads(kTestThreads); }

LoadedModel LoadTestModel(const std::string& dir, c10::ScalarType dtype, c10::Device device) {
  SetTestThreads();
  ModelOptions options;
  options.dtype = dtype;
  options.device = device;
  auto loaded = LoadModel(dir, options);
  if (!loaded.ok()) {
    ADD_FAILURE() << loaded.status();
    std::abort();
  }
  return std::move(*loaded);
}

GreedyResult Greedy(CausalLM& model, const std::vector<int64_t>& prompt,
                    const GreedyOptions& options, int64_t block_size) {
  KVCacheOptions cache_options = model.KVCacheLayout();
  cache_options.block_size = block_size;
  cache_options.num_blocks =
      BlocksForTokens(static_cast<int64_t>(prompt.size()) + options.max_new_tokens, block_size);
  KVCache cache(cache_options);
  BlockAllocator allocator(static_cast<int32_t>(cache_options.num_blocks));
  auto result = GenerateGreedy(model, cache, allocator, prompt, options);
  EXPECT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(allocator.num_free(), allocator.num_blocks());
  return result.ok() ? std::move(*result) : GreedyResult();
}

nlohmann::json ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

at::Tensor ReadF32File(const std::string& path, int64_t rows, int64_t cols) {
  at::Tensor out = at::empty({rows, cols}, at::kFloat);
  std::ifstream in(path, std::ios::binary);
  in.read(static_cast<char*>(out.data_ptr()), rows * cols * 4);
  EXPECT_EQ(in.gcount(), rows * cols * 4) << path;
  return out;
}

std::vector<int64_t> Ids(const nlohmann::json& array) {
  std::vector<int64_t> ids;
  for (const auto& v : array) ids.push_back(v.get<int64_t>());
  return ids;
}

}  // namespace sllm::worker::testing
