#include "bench/engine/memory_bandwidth.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace sllm::bench {
namespace {

// Sums 64-byte lines with four independent AVX2 accumulators: enough loads in flight to be
// bound by memory, not by the loop. The sum is returned so the reads cannot be elided.
__attribute__((target("avx2"))) uint64_t SumSlice(const uint8_t* p, int64_t bytes) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i + 128 <= bytes; i += 128) {
    a0 = _mm256_add_epi64(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    a2 = _mm256_add_epi64(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
    a3 = _mm256_add_epi64(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
  }
  const __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

}  // namespace

double MeasureReadBandwidth(const BandwidthOptions& options) {
  const int threads = std::max(1, options.threads);
  const int64_t slice = (options.bytes / threads) & ~int64_t{4095};
  const int64_t total = slice * threads;
  std::unique_ptr<uint8_t, decltype(&std::free)> buffer(
      static_cast<uint8_t*>(std::aligned_alloc(4096, total)), &std::free);
  // Touch every page from the thread that will read it (first-touch placement).
  std::vector<uint64_t> sums(threads);
  auto run = [&](bool fill) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        uint8_t* p = buffer.get() + t * slice;
        if (fill) std::memset(p, t + 1, slice);
        else sums[t] += SumSlice(p, slice);
      });
    }
    for (auto& w : workers) w.join();
  };
  run(/*fill=*/true);
  double best = 0;
  for (int r = 0; r < std::max(1, options.repetitions); ++r) {
    const auto start = std::chrono::steady_clock::now();
    run(/*fill=*/false);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, total / seconds);
  }
  volatile uint64_t sink = 0;
  for (uint64_t s : sums) sink = sink + s;
  return best;
}

}  // namespace sllm::bench
