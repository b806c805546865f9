#include "services/worker/quant/matmul.h"

#include <omp.h>

#include <algorithm>

#include "glog/logging.h"
#include "services/worker/quant/aligned_buffer.h"
#include "services/worker/quant/kernels.h"
#include "services/worker/quant/panel_layout.h"

namespace sllm::worker::quant {
namespace internal {

const Kernels& KernelsFor(CpuLevel level) {
  switch (level) {
    case CpuLevel::kAvx512Vnni:
      return Avx512VnniKernels();
    case CpuLevel::kAvx2:
      return Avx2Kernels();
    case CpuLevel::kScalar:
      break;
  }
  return ScalarKernels();
}

}  // namespace internal

namespace {

using internal::AlignedBuffer;
using internal::Kernels;
using internal::kGroupSize;
using internal::kPanelRows;
using internal::TileArgs;

// Below this many multiply-adds one thread is faster than waking the others: an OpenMP fork
// and join costs microseconds, 2^20 int8 multiply-adds ~40 us of one core at decode speed.
constexpr int64_t kMinParallelWork = int64_t{1} << 20;
// x rows per pass over W: their int8 copy should stay in L2 (1 MB on Zen 4, 2 MB on recent
// Intel) while W streams past.
constexpr int64_t kXBlockBytes = 256 * 1024;
// How far ahead of a lone tile the weights are prefetched (measured at m = 1 on this Zen 5:
// ~28 GB/s with 4 KB against ~23 GB/s with the hardware prefetchers alone).
constexpr int64_t kPrefetchBytes = 4096;

// The quantized activations, reused across calls on the same thread (decode calls MatMul
// hundreds of times per token; fresh large allocations would page-fault each time).
struct Activations {
  AlignedBuffer<int8_t> q;
  AlignedBuffer<float> d;
  AlignedBuffer<int32_t> sum;
};

// One MatMul call, split into the work of thread `thread` of `threads`.
class Plan {
 public:
  Plan(const float* x, int64_t m, const QuantizedMatrix& w, float* y, const float* bias,
       const Kernels& kernels)
      : x_(x), m_(m), w_(w), y_(y), bias_(bias), kernels_(kernels), act_(ThreadActivations()) {
    act_.q.Reserve(m * cols());
    act_.d.Reserve(m * groups());
    act_.sum.Reserve(m * groups());
    tile_rows_ = kernels.max_rows;
    x_block_ = std::max<int64_t>(tile_rows_, kXBlockBytes / cols() / tile_rows_ * tile_rows_);
    // With one tile of x rows per block, all of a panel's groups in one call; with several,
    // one L1-sized block of groups at a time for all of them (the same sums either way).
    k_step_ = std::min(m, x_block_) > tile_rows_ ? internal::KBlockGroups(w.type()) : groups();
  }

  // Quantizes this thread's share of the rows of x.
  void QuantizeRows(int64_t thread, int64_t threads) {
    for (int64_t r = m_ * thread / threads; r < m_ * (thread + 1) / threads; ++r) {
      kernels_.quantize_row(x_ + r * cols(), cols(), act_.q.data() + r * cols(),
                            act_.d.data() + r * groups(), act_.sum.data() + r * groups());
    }
  }

  // y for this thread's contiguous run of panels: one sequential stream through W.
  void Multiply(int64_t thread, int64_t threads) {
    const int64_t panels = w_.panels();
    for (int64_t r0 = 0; r0 < m_; r0 += x_block_) {
      for (int64_t p = panels * thread / threads; p < panels * (thread + 1) / threads; ++p) {
        MultiplyPanel(p, r0, std::min(m_, r0 + x_block_));
      }
    }
  }

 private:
  static Activations& ThreadActivations() {
    thread_local Activations activations;
    return activations;
  }

  int64_t cols() const { return w_.cols(); }
  int64_t groups() const { return w_.cols() / kGroupSize; }

  // Rows r0..r1-1 of y for one panel of W.
  void MultiplyPanel(int64_t panel, int64_t r0, int64_t r1) {
    const int64_t rows = w_.rows(), row0 = panel * kPanelRows;
    const int type = w_.type() == QuantType::kInt8 ? 0 : 1;
    TileArgs args;
    args.xq_stride = cols();
    args.xg_stride = groups();
    args.w = w_.panel_data(panel);
    args.wd = w_.panel_scales(panel);
    args.y_stride = rows;
    args.valid_rows = static_cast<int>(std::min<int64_t>(kPanelRows, rows - row0));
    for (int64_t g0 = 0; g0 < groups(); g0 += k_step_) {
      args.group_begin = g0;
      args.group_end = std::min(groups(), g0 + k_step_);
      args.accumulate = g0 > 0;
      for (int64_t r = r0; r < r1; r += tile_rows_) {
        // Software prefetch by the first tile: with one tile, a little ahead of the stream
        // (the hardware prefetchers alone left ~15% of the bandwidth unused); with several,
        // the next block, while the other tiles compute from L1 and make no new misses.
        if (r != r0) {
          args.prefetch = 0;
        } else if (r1 - r0 <= tile_rows_) {
          args.prefetch = kPrefetchBytes;
        } else {
          args.prefetch = k_step_ * internal::GroupBytes(w_.type());
        }
        args.xq = act_.q.data() + r * cols();
        args.xd = act_.d.data() + r * groups();
        args.xsum = act_.sum.data() + r * groups();
        args.y = y_ + r * rows + row0;
        kernels_.tiles[type][std::min<int64_t>(tile_rows_, r1 - r) - 1](args);
      }
    }
    if (bias_ == nullptr) return;
    for (int64_t r = r0; r < r1; ++r) {
      for (int p = 0; p < args.valid_rows; ++p) y_[r * rows + row0 + p] += bias_[row0 + p];
    }
  }

  const float* x_;
  int64_t m_;
  const QuantizedMatrix& w_;
  float* y_;
  const float* bias_;
  const Kernels& kernels_;
  Activations& act_;
  int tile_rows_;
  int64_t x_block_;
  int64_t k_step_;
};

}  // namespace

void MatMul(const float* x, int64_t m, const QuantizedMatrix& w, float* y, const float* bias) {
  MatMul(x, m, w, y, bias, BestCpuLevel());
}

void MatMul(const float* x, int64_t m, const QuantizedMatrix& w, float* y, const float* bias,
            CpuLevel level) {
  CHECK(CpuSupports(level)) << "this CPU cannot run the " << CpuLevelName(level) << " kernels";
  CHECK_GE(m, 0);
  if (m == 0 || w.rows() == 0) return;
  Plan plan(x, m, w, y, bias, internal::KernelsFor(level));
  // Even an OpenMP region of one thread costs ~1 us here; small products and
  // OMP_NUM_THREADS=1 skip it.
  if (m * w.rows() * w.cols() < kMinParallelWork || omp_get_max_threads() == 1) {
    plan.QuantizeRows(0, 1);
    plan.Multiply(0, 1);
    return;
  }
#pragma omp parallel
  {
    const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
    plan.QuantizeRows(thread, threads);
#pragma omp barrier
    plan.Multiply(thread, threads);
  }
}

}  // namespace sllm::worker::quant
