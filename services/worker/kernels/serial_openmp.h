// Keeps small GEMMs on the calling thread. BLIS (OpenMP build: the BLAS that libtorch calls
// for float32 matrix products here) splits every GEMM over its threads, however small: for
// the attention and projections of a small model the second thread's wake-up costs more than
// it saves, and the caller spins at BLIS's barrier meanwhile. A 64x32x8 sgemm took 23 us
// (43 us of CPU) on two threads and 8 us on one; they break even near 128x64x64
// (bench/results/RESULTS.md). On a machine the whole cluster shares, that spinning also took
// the CPU the gateway and tokenizer needed for the first token.
#ifndef SLLM_SERVICES_WORKER_KERNELS_SERIAL_OPENMP_H_
#define SLLM_SERVICES_WORKER_KERNELS_SERIAL_OPENMP_H_

#include <cstdint>

namespace sllm::worker::kernels {

// GEMMs (in total, over a batch) of fewer multiply-adds run on one thread.
inline constexpr int64_t kMinThreadedGemmMacs = int64_t{1} << 19;

// While alive and `serial`, every OpenMP region the calling thread starts (BLIS's and
// libtorch's included) runs on that thread alone: libgomp keeps max-active-levels per thread,
// and BLIS runs single-threaded when its region gets one thread. Other threads are unaffected.
class SerialOpenMpScope {
 public:
  explicit SerialOpenMpScope(bool serial);
  ~SerialOpenMpScope();

  SerialOpenMpScope(const SerialOpenMpScope&) = delete;
  SerialOpenMpScope& operator=(const SerialOpenMpScope&) = delete;

 private:
  int saved_ = -1;  // The thread's max-active-levels before, when changed.
};

// True when a GEMM of `macs` multiply-adds should stay on one thread (always false once
// disabled).
bool SmallGemm(int64_t macs);

// On by default; off runs every GEMM on BLAS's threads (for A/B benchmarks: sllm-bench
// --serial_small_gemms).
void SetSerialSmallGemms(bool enabled);

}  // namespace sllm::worker::kernels

#endif  // SLLM_SERVICES_WORKER_KERNELS_SERIAL_OPENMP_H_
