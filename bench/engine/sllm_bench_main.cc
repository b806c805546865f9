// sllm-bench: the engine's prefill and decode speed on one model, like llama.cpp's llama-bench.
//   sllm-bench --model DIR [--threads T] [--dtype float32|bfloat16] [--quantize int8|int4]
//              [--prompt-len P]
//              [--gen-len G] [--batch B] [--repetitions R] [--membw]
// Prints one JSON line: prefill_tokens_per_s, decode_tokens_per_s (aggregate over the batch),
// weight bytes read per decode step and per second, and (with --membw) this machine's
// streaming read bandwidth measured in the same run with the same threads.
#include <cstdio>
#include <iostream>
#include <string>

#include <ATen/Parallel.h>

#include "bench/engine/engine_bench.h"
#include "bench/engine/memory_bandwidth.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "nlohmann/json.hpp"
#include "services/worker/engine/engine.h"
#include "services/worker/kernels/serial_openmp.h"
#include "services/worker/model/layers.h"
#include "services/worker/model/model_options.h"

DEFINE_string(model, "", "Model folder (config.json + safetensors)");
DEFINE_int32(threads, 1, "Intra-op threads");
DEFINE_string(dtype, "float32", "Serving dtype: float32 or bfloat16");
DEFINE_string(quantize, "none", "Weight-only quantization: none, int8 or int4");
DEFINE_int32(prompt_len, 64, "Prompt tokens per sequence");
DEFINE_int32(gen_len, 32, "Generated tokens per sequence");
DEFINE_int32(batch, 1, "Concurrent sequences");
DEFINE_int32(repetitions, 3, "Timed runs (medians are reported)");
DEFINE_uint64(seed, 1, "Seed of the random prompts");
DEFINE_string(kernels, "sllm",
              "Decode-step matrix products: sllm (our streaming kernels) or torch (libtorch)");
DEFINE_bool(serial_small_gemms, true,
            "Run GEMMs under 2^19 multiply-adds on one thread (services/worker/kernels/"
            "serial_openmp.h); false: on all of BLAS's threads");
DEFINE_bool(membw, true, "Also measure the machine's read bandwidth with --threads threads");

namespace {

// llama-bench spells flags with dashes (--prompt-len); gflags wants underscores.
void DashesToUnderscores(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* a = argv[i];
    if (a[0] != '-' || a[1] != '-') continue;
    for (char* c = a + 2; *c != '\0' && *c != '='; ++c) {
      if (*c == '-') *c = '_';
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  DashesToUnderscores(argc, argv);
  gflags::SetUsageMessage("sllm-bench --model DIR [--threads T] [--dtype D] [--prompt-len P] "
                          "[--gen-len G] [--batch B]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  if (FLAGS_model.empty()) {
    std::cerr << "--model is required\n";
    return 2;
  }
  if (FLAGS_threads < 1) {
    std::cerr << "--threads must be >= 1, got " << FLAGS_threads << "\n";
    return 2;
  }
  auto dtype = sllm::worker::ParseServingDType(FLAGS_dtype);
  if (!dtype.ok()) {
    std::cerr << "--dtype: " << dtype.status().message() << "\n";
    return 2;
  }
  if (FLAGS_kernels != "sllm" && FLAGS_kernels != "torch") {
    std::cerr << "--kernels must be sllm or torch, got '" << FLAGS_kernels << "'\n";
    return 2;
  }
  sllm::worker::SetStreamingLinearEnabled(FLAGS_kernels == "sllm");
  sllm::worker::kernels::SetSerialSmallGemms(FLAGS_serial_small_gemms);
  auto quantize = sllm::worker::ParseQuantize(FLAGS_quantize);
  if (!quantize.ok()) {
    std::cerr << "--quantize: " << quantize.status().message() << "\n";
    return 2;
  }
  sllm::worker::EngineOptions options;
  options.model.dtype = *dtype;
  options.model.quantize = *quantize;
  options.num_threads = FLAGS_threads;
  options.scheduler.max_num_seqs = std::max(1, FLAGS_batch);
  options.scheduler.max_num_batched_tokens = std::max(512, FLAGS_batch * FLAGS_prompt_len);
  options.scheduler.enable_prefix_cache = false;
  options.kv_cache_tokens = int64_t{std::max(1, FLAGS_batch)} * (FLAGS_prompt_len + FLAGS_gen_len + 16);
  options.max_model_len = FLAGS_prompt_len + FLAGS_gen_len + 16;
  auto engine = sllm::worker::Engine::Create(FLAGS_model, options);
  if (!engine.ok()) {
    std::cerr << "loading " << FLAGS_model << ": " << engine.status() << "\n";
    return 1;
  }
  sllm::bench::EngineBenchOptions bench;
  bench.prompt_len = FLAGS_prompt_len;
  bench.gen_len = FLAGS_gen_len;
  bench.batch = FLAGS_batch;
  bench.repetitions = FLAGS_repetitions;
  bench.seed = FLAGS_seed;
  auto result = sllm::bench::RunEngineBench(**engine, bench);
  if (!result.ok()) {
    std::cerr << "benchmark failed: " << result.status() << "\n";
    return 1;
  }
  nlohmann::ordered_json out = {
      {"model", FLAGS_model},
      {"dtype", FLAGS_dtype},
      {"quantize", FLAGS_quantize},
      {"kernels", FLAGS_kernels},
      {"serial_small_gemms", FLAGS_serial_small_gemms},
      {"threads", at::get_num_threads()},
      {"batch", FLAGS_batch},
      {"prompt_len", FLAGS_prompt_len},
      {"gen_len", FLAGS_gen_len},
      {"repetitions", FLAGS_repetitions},
      {"prefill_tokens_per_s", result->prefill_tokens_per_s},
      {"decode_tokens_per_s", result->decode_tokens_per_s},
      {"decode_step_ms", result->decode_step_ms},
      {"model_bytes", result->model_bytes},
      {"weight_bytes_per_step", result->weight_bytes_per_step},
      {"weight_gb_per_s", result->weight_bytes_per_s / 1e9},
  };
  if (FLAGS_membw) {
    sllm::bench::BandwidthOptions bw;
    bw.threads = FLAGS_threads;
    const double read = sllm::bench::MeasureReadBandwidth(bw);
    out["memory_read_gb_per_s"] = read / 1e9;
    out["bandwidth_fraction"] = result->weight_bytes_per_s / read;
  }
  std::cout << out.dump() << std::endl;
  return 0;
}
