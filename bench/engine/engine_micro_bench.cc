// sllm-engine-micro-bench (Google Benchmark): the pieces of a step, each alone.
//   BM_DecodeStep/B/C   one model step of B sequences with C cached tokens each (1 new each)
//   BM_Prefill/P        one model step of a P-token prompt (tokens/s counter)
//   BM_Sample*/V        the sampler on a V-wide logits row (greedy, top-p with temperature)
//   BM_BlockAllocator   allocating and freeing a 2k-token sequence's blocks
//   BM_KVCacheWrite/T, BM_KVCacheGather/C
// The model comes from --model=DIR (default: the bundled stories260K); --dtype=bfloat16 and
// --threads=N apply to the model benchmarks; --kernels=torch sends every matrix product
// through libtorch instead of the streaming decode kernels.
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include "benchmark/benchmark.h"
#include "glog/logging.h"
#include "services/worker/kv_cache/block_allocator.h"
#include "services/worker/kv_cache/kv_cache.h"
#include "services/worker/model/attention_metadata.h"
#include "services/worker/model/layers.h"
#include "services/worker/model/model_loader.h"
#include "services/worker/sampling/sampler.h"

namespace sllm::worker {
namespace {

std::string g_model = SLLM_MODELS_DIR "/stories260K";
std::string g_dtype = "float32";

struct ModelFixture {
  LoadedModel loaded;
  std::unique_ptr<KVCache> cache;
  int64_t block_size = 16;
};

ModelFixture& Model() {
  static ModelFixture* f = [] {
    auto* fixture = new ModelFixture();
    ModelOptions options;
    options.dtype = *ParseServingDType(g_dtype);
    auto loaded = LoadModel(g_model, options);
    CHECK(loaded.ok()) << loaded.status();
    fixture->loaded = std::move(*loaded);
    KVCacheOptions kv = fixture->loaded.model->KVCacheLayout();
    kv.block_size = fixture->block_size;
    kv.num_blocks = 32 * 1024 / kv.block_size;  // 32k tokens.
    fixture->cache = std::make_unique<KVCache>(kv);
    return fixture;
  }();
  return *f;
}

std::vector<int32_t> Blocks(int64_t first, int64_t tokens, int64_t block_size) {
  std::vector<int32_t> blocks;
  for (int64_t b = 0; b < (tokens + block_size - 1) / block_size; ++b) {
    blocks.push_back(static_cast<int32_t>(first + b));
  }
  return blocks;
}

void RunStep(ModelFixture& m, const std::vector<SequenceStep>& steps) {
  c10::InferenceMode guard;
  auto inputs = BuildStepInputs(steps, m.block_size, c10::Device(c10::DeviceType::CPU));
  CHECK(inputs.ok()) << inputs.status();
  at::Tensor logits =
      m.loaded.model->Forward(inputs->tokens, inputs->positions, inputs->metadata, *m.cache);
  benchmark::DoNotOptimize(logits.data_ptr<float>());
}

void BM_DecodeStep(benchmark::State& state) {
  ModelFixture& m = Model();
  const int64_t batch = state.range(0), context = state.range(1);
  const int64_t vocab = m.loaded.config.vocab_size;
  const int64_t per_seq_blocks = (context + m.block_size) / m.block_size + 1;
  CHECK_LE(batch * per_seq_blocks, m.cache->num_blocks()) << "KV cache too small";
  std::mt19937_64 rng(1);
  std::vector<SequenceStep> prefill, decode;
  for (int64_t b = 0; b < batch; ++b) {
    SequenceStep p;
    for (int64_t t = 0; t < context; ++t) p.tokens.push_back(rng() % vocab);
    p.block_table = Blocks(b * per_seq_blocks, context + 1, m.block_size);
    prefill.push_back(p);
    SequenceStep d;
    d.tokens = {static_cast<int64_t>(rng() % vocab)};
    d.num_cached = context;
    d.block_table = p.block_table;
    decode.push_back(d);
  }
  RunStep(m, prefill);  // Fills the cache the decode steps read.
  for (auto _ : state) RunStep(m, decode);
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Prefill(benchmark::State& state) {
  ModelFixture& m = Model();
  const int64_t len = state.range(0), vocab = m.loaded.config.vocab_size;
  std::mt19937_64 rng(2);
  SequenceStep p;
  for (int64_t t = 0; t < len; ++t) p.tokens.push_back(rng() % vocab);
  p.block_table = Blocks(0, len, m.block_size);
  for (auto _ : state) RunStep(m, {p});
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(len), benchmark::Counter::kIsIterationInvariantRate);
}

void Sample(benchmark::State& state, const SamplingParams& params) {
  const int64_t vocab = state.range(0);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0, 3);
  std::vector<float> logits(vocab), row(vocab);
  for (float& l : logits) l = normal(rng);
  const std::vector<uint32_t> prompt = {1, 2, 3};
  SequenceSampler sampler(params, prompt, 4);
  for (auto _ : state) {
    std::memcpy(row.data(), logits.data(), vocab * sizeof(float));
    benchmark::DoNotOptimize(sampler.Sample(absl::MakeSpan(row)).token);
  }
}

void BM_SampleGreedy(benchmark::State& state) {
  SamplingParams p;
  p.temperature = 0;
  Sample(state, p);
}

void BM_SampleTopP(benchmark::State& state) {
  SamplingParams p;
  p.temperature = 0.8f;
  p.top_p = 0.95f;
  Sample(state, p);
}

void BM_BlockAllocator(benchmark::State& state) {
  BlockAllocator allocator(4096);
  std::vector<int32_t> blocks;
  for (auto _ : state) {
    blocks.clear();
    CHECK(allocator.Allocate(128, blocks));  // 2k tokens of 16-token blocks.
    allocator.Free(blocks);
  }
}

KVCache& SmallCache() {
  static KVCache* cache = [] {
    KVCacheOptions o;
    o.num_layers = 1;
    o.num_kv_heads = 4;
    o.head_dim = 64;
    o.block_size = 16;
    o.num_blocks = 1024;
    return new KVCache(o);
  }();
  return *cache;
}

void BM_KVCacheWrite(benchmark::State& state) {
  c10::InferenceMode guard;
  KVCache& cache = SmallCache();
  const int64_t tokens = state.range(0);
  const at::Tensor slots = at::arange(tokens, at::kLong);
  const at::Tensor k = at::randn({tokens, 4, 64}), v = at::randn({tokens, 4, 64});
  for (auto _ : state) cache.Write(0, slots, k, v);
}

void BM_KVCacheGather(benchmark::State& state) {
  c10::InferenceMode guard;
  KVCache& cache = SmallCache();
  const int64_t context = state.range(0);
  const at::Tensor table = at::arange((context + 15) / 16, at::kLong);
  for (auto _ : state) {
    auto [k, v] = cache.Gather(0, table, context);
    benchmark::DoNotOptimize(k.data_ptr());
  }
}

BENCHMARK(BM_DecodeStep)
    ->ArgsProduct({{1, 2, 4, 8, 16, 32}, {128}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Prefill)->Arg(16)->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SampleGreedy)->Arg(32000)->Arg(128256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SampleTopP)->Arg(32000)->Arg(128256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BlockAllocator)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_KVCacheWrite)->Arg(1)->Arg(16)->Arg(512)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_KVCacheGather)->Arg(128)->Arg(2048)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sllm::worker

int main(int argc, char** argv) {
  int threads = 1;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--model=", 0) == 0) sllm::worker::g_model = a.substr(8);
    else if (a.rfind("--dtype=", 0) == 0) sllm::worker::g_dtype = a.substr(8);
    else if (a.rfind("--threads=", 0) == 0) threads = std::stoi(a.substr(10));
    else if (a == "--kernels=torch" || a == "--kernels=sllm") {
      sllm::worker::SetStreamingLinearEnabled(a == "--kernels=sllm");
    }
    else argv[kept++] = argv[i];
  }
  argc = kept;
  at::set_num_threads(threads);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
