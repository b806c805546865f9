#!/usr/bin/env bash
# The worker's correctness tests on a CUDA GPU, built against the machine's libtorch with CUDA
# (PyTorch's own, found through CMAKE_PREFIX_PATH). Debian's -dev packages of absl, glog, gflags,
# nlohmann-json and gtest travel as .deb files in $DEBS and are unpacked into a private prefix.
#   DEBS=.devdeps scripts/device/cuda_check.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
debs=${DEBS:-$root/.devdeps}
prefix=/tmp/sllm-deps
build=/tmp/sllm-cuda-build
out=${OUT:-/tmp}
mkdir -p "$prefix"
for f in "$debs"/*.deb; do dpkg -x "$f" "$prefix"; done
# glog's config names its module folder by absolute path: point it into the prefix.
sed -i "s|/usr/share/glog|$prefix/usr/share/glog|g" \
  "$prefix"/usr/lib/x86_64-linux-gnu/cmake/glog/*.cmake
arch_lib="$prefix/usr/lib/x86_64-linux-gnu"
export LD_LIBRARY_PATH="$arch_lib:${LD_LIBRARY_PATH:-}"
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))'
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLLM_WORKER_ONLY=ON \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix/usr" -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DTORCH_CUDA_ARCH_LIST=9.0 2>&1 | tail -n 15
cmake --build "$build" -j "$(nproc)" --target sllm_worker_llama_test sllm_worker_engine_test \
  sllm_worker_model_test sllm_worker_kernels_test \
  2>&1 | tee "$out/build.log" | grep -E "error|warning: unused|FAILED|Linking" | tail -n 40
cd "$build"
status=0
./bin/sllm_worker_llama_test --gtest_filter='LlamaCuda*' 2>&1 | tee "$out/llama_cuda_test.log" || status=1
SLLM_TEST_DEVICE=cuda:0 ./bin/sllm_worker_engine_test 2>&1 | tee "$out/engine_cuda_test.log" || status=1
# The CPU tests of the same binaries, against libtorch 2.x and this machine's processor.
./bin/sllm_worker_llama_test --gtest_filter='-LlamaCuda*' 2>&1 | tail -n 3 | tee -a "$out/llama_cuda_test.log" || status=1
for t in sllm_worker_model_test sllm_worker_kernels_test; do
  ./bin/$t > "$out/$t.log" 2>&1 || status=1
  tail -n 3 "$out/$t.log"
done
exit $status
