// Thread count of the system BLAS that libtorch calls for float32 GEMMs.
//
// Debian's libtorch calls whichever libblas.so.3 the system selects (this project installs
// BLIS, OpenMP build). at::set_num_threads sets libgomp's pool but not BLIS's own count:
// BLIS reads BLIS_NUM_THREADS (or OMP_NUM_THREADS) once, at its first call, and runs one
// thread when neither is set, so a 2-thread worker's float32 prefill ran on one core
// (bench/results/RESULTS.md). OpenBLAS reads OPENBLAS_NUM_THREADS the same way. The
// libblas.so.3 build exports only the BLAS API, not BLIS's thread setter, so the count is
// passed through the environment.
#ifndef SLLM_SERVICES_WORKER_KERNELS_BLAS_THREADS_H_
#define SLLM_SERVICES_WORKER_KERNELS_BLAS_THREADS_H_

namespace sllm::worker::kernels {

// Sets BLIS_NUM_THREADS and OPENBLAS_NUM_THREADS to `threads` (at least 1) where the user
// has not set them. Takes effect only before the process's first BLAS call, and must run
// before other threads read the environment: call it while starting up (Engine::Create
// does, before loading a model). Returns the thread count BLIS_NUM_THREADS now asks for
// (the user's own setting when there was one; 0 when that is not a number).
int RequestBlasThreads(int threads);

}  // namespace sllm::worker::kernels

#endif  // SLLM_SERVICES_WORKER_KERNELS_BLAS_THREADS_H_
