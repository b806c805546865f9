#include "services/worker/kernels/blas_threads.h"

#include <cstdlib>
#include <string>

namespace sllm::worker::kernels {

int RequestBlasThreads(int threads) {
  const std::string n = std::to_string(threads < 1 ? 1 : threads);
  for (const char* name : {"BLIS_NUM_THREADS", "OPENBLAS_NUM_THREADS"}) {
    setenv(name, n.c_str(), /*overwrite=*/0);
  }
  return std::atoi(std::getenv("BLIS_NUM_THREADS"));
}

}  // namespace sllm::worker::kernels
