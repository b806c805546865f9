// sllm-quant-bench: y[m, rows] = x[m, cols] W^T with W quantized to int8 / int4
// (services/worker/quant) against a simple fp32 GEMV/GEMM that streams fp32 weights.
//
//   OMP_NUM_THREADS=1 sllm-quant-bench [--levels=best|all|scalar,avx2,avx512vnni] [--hot]
//                                      [--benchmark_filter=...]
//
// By default each benchmark cycles through enough copies of its matrix (512 MB) that every
// call reads the weights from DRAM, as a decode step does (a model is far larger than the
// last-level cache); --hot reuses one copy, which small shapes then read from cache.
// Counters: weight_GB/s = bytes of W (values + scales) per second, which is what bounds decode
// (m = 1..32); GFLOP/s = 2 * m * rows * cols per second (one multiply-add = 2), which bounds
// prefill. A decode step of a model whose quantized weights take B bytes runs at most at
// weight_GB/s / B tokens/s. Shapes are Llama-class projections (rows = out_features): 2048x2048
// (q/o), 5632x2048 (gate/up), 2048x5632 (down), 128256x2048 (the Llama-3 vocabulary head).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "services/worker/quant/cpu_level.h"
#include "services/worker/quant/matmul.h"
#include "services/worker/quant/quantized_matrix.h"

namespace sllm::worker::quant {
namespace {

struct Shape {
  int64_t rows, cols;
};
constexpr Shape kShapes[] = {{2048, 2048}, {5632, 2048}, {2048, 5632}, {128256, 2048}};
constexpr int64_t kBatches[] = {1, 4, 16, 64};

// Uniform values in [-scale, scale) from a fixed-seed xorshift (fast for the 262M-weight head).
std::vector<float> RandomFloats(int64_t n, uint64_t seed, float scale) {
  std::vector<float> v(n);
  uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
  for (float& x : v) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    x = (static_cast<float>(s >> 40) * 0x1p-24f * 2 - 1) * scale;
  }
  return v;
}

bool hot = false;  // --hot: one copy of each matrix.
constexpr double kColdBytes = 512e6;

// How many copies of a matrix of `bytes` to cycle through.
size_t Copies(double bytes) {
  return hot ? 1 : static_cast<size_t>(std::max(1.0, std::ceil(kColdBytes / bytes)));
}

// The weights of one shape at a time (the vocabulary head in fp32 alone is 1 GB).
struct Weights {
  Shape shape{0, 0};
  std::vector<std::vector<float>> fp32;
  std::vector<QuantizedMatrix> int8, int4;
};

Weights& WeightsFor(Shape shape) {
  static Weights weights;
  if (weights.shape.rows != shape.rows || weights.shape.cols != shape.cols) {
    weights = Weights();
    weights.shape = shape;
    const int64_t n = shape.rows * shape.cols;
    weights.fp32.push_back(RandomFloats(n, 1, 0.05f));
    while (weights.fp32.size() < Copies(4.0 * n)) weights.fp32.push_back(weights.fp32[0]);
    for (const QuantType type : {QuantType::kInt8, QuantType::kInt4}) {
      std::vector<QuantizedMatrix>& copies = type == QuantType::kInt8 ? weights.int8 : weights.int4;
      const QuantizedMatrix first = *Quantize(weights.fp32[0].data(), shape.rows, shape.cols, type);
      while (copies.size() < Copies(static_cast<double>(first.ByteSize()))) {
        copies.push_back(*Quantize(weights.fp32[0].data(), shape.rows, shape.cols, type));
      }
    }
  }
  return weights;
}

void SetCounters(benchmark::State& state, int64_t weight_bytes, int64_t m, Shape shape) {
  state.counters["weight_GB/s"] = benchmark::Counter(static_cast<double>(weight_bytes) / 1e9,
                                                     benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(m * shape.rows * shape.cols) / 1e9,
                         benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = omp_get_max_threads();
}

void BM_Quantized(benchmark::State& state, QuantType type, CpuLevel level, int64_t m, Shape shape) {
  const Weights& weights = WeightsFor(shape);
  const std::vector<QuantizedMatrix>& copies =
      type == QuantType::kInt8 ? weights.int8 : weights.int4;
  const std::vector<float> x = RandomFloats(m * shape.cols, 2, 1.0f);
  std::vector<float> y(m * shape.rows);
  size_t next = 0;
  for (auto _ : state) {
    MatMul(x.data(), m, copies[next], y.data(), nullptr, level);
    next = next + 1 == copies.size() ? 0 : next + 1;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  SetCounters(state, copies[0].ByteSize(), m, shape);
}

// The fp32 reference: a plain loop nest (OpenMP over rows of W, one SIMD dot product per
// output), compiled for AVX2 + FMA so it is not handicapped by the generic x86-64 build.
__attribute__((target("avx2,fma"))) void Fp32MatMul(const float* x, int64_t m, const float* w,
                                                    int64_t rows, int64_t cols, float* y) {
#pragma omp parallel for schedule(static) if (m * rows * cols >= (int64_t{1} << 18))
  for (int64_t i = 0; i < rows; ++i) {
    const float* wi = w + i * cols;
    for (int64_t r = 0; r < m; ++r) {
      const float* xr = x + r * cols;
      float dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t k = 0; k < cols; ++k) dot += xr[k] * wi[k];
      y[r * rows + i] = dot;
    }
  }
}

void BM_Fp32(benchmark::State& state, int64_t m, Shape shape) {
  if (!CpuSupports(CpuLevel::kAvx2)) {
    state.SkipWithError("the fp32 reference needs AVX2");
    return;
  }
  const Weights& weights = WeightsFor(shape);
  const std::vector<float> x = RandomFloats(m * shape.cols, 2, 1.0f);
  std::vector<float> y(m * shape.rows);
  size_t next = 0;
  for (auto _ : state) {
    Fp32MatMul(x.data(), m, weights.fp32[next].data(), shape.rows, shape.cols, y.data());
    next = next + 1 == weights.fp32.size() ? 0 : next + 1;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  SetCounters(state, static_cast<int64_t>(weights.fp32[0].size() * sizeof(float)), m, shape);
}

// --levels=best (default), all (the SIMD levels this CPU has), or a comma list of names.
std::vector<CpuLevel> ParseLevels(std::string_view spec) {
  std::vector<CpuLevel> levels;
  for (const CpuLevel level : {CpuLevel::kScalar, CpuLevel::kAvx2, CpuLevel::kAvx512Vnni}) {
    if (!CpuSupports(level)) continue;
    const bool wanted = spec == "best"  ? level == BestCpuLevel()
                        : spec == "all" ? level != CpuLevel::kScalar
                                        : spec.find(CpuLevelName(level)) != std::string_view::npos;
    if (wanted) levels.push_back(level);
  }
  return levels;
}

}  // namespace
}  // namespace sllm::worker::quant

int main(int argc, char** argv) {
  using namespace sllm::worker::quant;
  std::string_view level_spec = "best";
  int kept = 1;
  for (int k = 1; k < argc; ++k) {
    if (std::strncmp(argv[k], "--levels=", 9) == 0) {
      level_spec = argv[k] + 9;
    } else if (std::strcmp(argv[k], "--hot") == 0) {
      hot = true;
    } else {
      argv[kept++] = argv[k];
    }
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Grouped by shape so that each weight matrix is generated once.
  for (const Shape shape : kShapes) {
    const std::string dims = std::to_string(shape.rows) + "x" + std::to_string(shape.cols);
    for (const int64_t m : kBatches) {
      const std::string suffix = "/" + dims + "/m:" + std::to_string(m);
      for (const QuantType type : {QuantType::kInt8, QuantType::kInt4}) {
        for (const CpuLevel level : ParseLevels(level_spec)) {
          benchmark::RegisterBenchmark(
              (std::string(QuantTypeName(type)) + "/" + std::string(CpuLevelName(level)) + suffix)
                  .c_str(),
              BM_Quantized, type, level, m, shape)
              ->UseRealTime()
              ->Unit(benchmark::kMicrosecond);
        }
      }
      benchmark::RegisterBenchmark(("fp32/simple" + suffix).c_str(), BM_Fp32, m, shape)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
