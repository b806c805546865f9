// sllm-worker-server: one worker shard serving one or more models over gRPC.
//   sllm-worker-server --models stories260K=models/stories260K --shard_id 0 --port 50061
#include <unistd.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_split.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "services/common/flags.h"
#include "services/common/server.h"
#include "services/hub/model_dir.h"
#include "services/worker/service/worker_service.h"

DEFINE_string(models, "",
              "Models to serve: comma-separated NAME=DIR (or DIR, named after it); DIR may be a "
              "hub id org/name[@revision]");
DEFINE_int32(shard_id, 0, "This shard's id");
DEFINE_string(device, "cpu", "cpu or cuda:N");
DEFINE_string(dtype, "float32", "Serving dtype: float32, bfloat16, float16");
DEFINE_string(quantize, "none",
              "Weight-only quantization of the linear layers at load: none, int8 (like Q8_0) "
              "or int4 (like Q4_0); CPU only");
DEFINE_int32(threads, 0, "Intra-op threads per model (0: all cores)");
DEFINE_int32(max_num_seqs, 64, "Sequences in the running batch");
DEFINE_int32(max_num_batched_tokens, 512, "Tokens per engine step (chunked prefill budget)");
DEFINE_int32(max_waiting, 256, "Waiting-queue bound (beyond: RESOURCE_EXHAUSTED)");
DEFINE_int32(block_size, 16, "KV-cache block size in tokens");
DEFINE_int64(kv_cache_tokens, 0, "KV-cache size in tokens (0: max_num_seqs x context, <= 64Ki)");
DEFINE_int32(max_model_len, 0, "Context length served (0: the model's)");
DEFINE_double(stall_seconds, 30, "Not ready while an engine step has been running this long");
DEFINE_string(test_stall_file, "",
              "Test hook: while this file exists, each engine step blocks after it ran (a stalled "
              "step loop, for fault tests)");

int main(int argc, char** argv) {
  sllm::ConfigureServerProcess();
  sllm::SetServerFlagDefaults(/*port=*/50061, /*metrics_port=*/9092);
  gflags::SetUsageMessage("sllm-worker-server --models NAME=DIR[,NAME=DIR...]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;

  sllm::ServiceRunner runner(sllm::ServerOptionsFromFlags());
  std::vector<std::unique_ptr<sllm::worker::ServedEngine>> served;
  std::map<std::string, sllm::worker::ServedEngine*> by_name;
  auto dtype = sllm::worker::ParseServingDType(FLAGS_dtype);
  auto device = sllm::worker::ParseDevice(FLAGS_device);
  auto quantize = sllm::worker::ParseQuantize(FLAGS_quantize);
  if (!dtype.ok() || !device.ok() || !quantize.ok()) {
    LOG(ERROR) << (!dtype.ok() ? dtype.status() : !device.ok() ? device.status()
                                                               : quantize.status());
    return 2;
  }
  // Scrapeable while the weights load (minutes for a large model on network storage): the
  // shard-down alert watches `up`.
  if (auto st = runner.ServeMetricsEarly(); !st.ok()) {
    LOG(ERROR) << st;
    return 1;
  }
  for (absl::string_view item : absl::StrSplit(FLAGS_models, ',', absl::SkipEmpty())) {
    auto s = std::make_unique<sllm::worker::ServedEngine>();
    std::string spec(item);
    const size_t eq = spec.find('=');
    const std::string source = eq == std::string::npos ? spec : spec.substr(eq + 1);
    s->name = eq == std::string::npos ? sllm::hub::DefaultModelName(source) : spec.substr(0, eq);
    // A hub id (org/name[@revision]) is fetched into the hub cache, or found there.
    auto dir = sllm::hub::ResolveModelDir(source);
    if (!dir.ok()) {
      LOG(ERROR) << dir.status().message();
      return 1;
    }
    s->dtype = FLAGS_dtype;
    s->device = FLAGS_device;
    sllm::worker::EngineOptions options;
    options.model.dtype = *dtype;
    options.model.device = *device;
    options.model.quantize = *quantize;
    options.num_threads = FLAGS_threads > 0
                              ? FLAGS_threads
                              : static_cast<int32_t>(std::thread::hardware_concurrency());
    options.max_model_len = FLAGS_max_model_len;
    options.kv_cache_tokens = FLAGS_kv_cache_tokens;
    options.scheduler.max_num_seqs = FLAGS_max_num_seqs;
    options.scheduler.max_num_batched_tokens = FLAGS_max_num_batched_tokens;
    options.scheduler.max_waiting = FLAGS_max_waiting;
    options.scheduler.block_size = FLAGS_block_size;
    s->metrics = std::make_unique<sllm::worker::WorkerMetrics>(
        runner.registry(), s->name, std::to_string(FLAGS_shard_id));
    sllm::worker::WorkerMetrics* metrics = s->metrics.get();
    options.on_step = [metrics](const sllm::worker::StepStats& st) {
      while (!FLAGS_test_stall_file.empty() && access(FLAGS_test_stall_file.c_str(), F_OK) == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      metrics->step_duration.Observe(st.seconds);
      metrics->batch_size.Observe(st.batch_size);
    };
    options.on_load = [metrics](const sllm::worker::EngineLoad& load) {
      metrics->running.Set(load.running);
      metrics->waiting.Set(load.waiting);
      metrics->kv_usage.Set(load.blocks_total ? double(load.blocks_used) / load.blocks_total : 0);
    };
    auto engine = sllm::worker::Engine::Create(*dir, options);
    if (!engine.ok()) {
      LOG(ERROR) << "model '" << s->name << "': " << engine.status();
      return 1;
    }
    s->engine = std::move(*engine);
    LOG(INFO) << "model '" << s->name << "': weights take "
              << s->engine->model().WeightBytes() / 1048576.0 << " MiB (" << FLAGS_dtype
              << ", quantize " << FLAGS_quantize << "); a decode step reads "
              << s->engine->model().DecodeWeightBytes() / 1048576.0 << " MiB";
    // Ready only after a real one-token step.
    if (auto st = s->engine->WarmUp(); !st.ok()) {
      LOG(ERROR) << "model '" << s->name << "' warm-up failed: " << st;
      return 1;
    }
    s->engine->Start();
    by_name[s->name] = s.get();
    served.push_back(std::move(s));
  }
  if (served.empty()) {
    LOG(ERROR) << "--models names no model";
    return 2;
  }
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  sllm::worker::WorkerServiceImpl service(FLAGS_shard_id, host, by_name);
  runner.AddService(&service);
  // Tells the gateways' GenerateStreams calls to start new requests elsewhere.
  runner.OnDrain([&service] { service.Drain(); });
  if (auto st = runner.Start(); !st.ok()) {
    LOG(ERROR) << st;
    return 1;
  }
  const std::string name = sllm::v1::WorkerService::service_full_name();
  runner.SetServing("", true);
  runner.SetServing(name, true);
  service.set_ready(true);
  LOG(INFO) << "worker shard " << FLAGS_shard_id << " on " << runner.local_target()
            << ", metrics on port " << runner.metrics_port();

  // Prefix-cache counters and the stall watchdog: a busy engine that stopped stepping turns
  // NOT_SERVING.
  std::thread watchdog([&] {
    bool ready = true;
    std::vector<std::pair<int64_t, int64_t>> prefix_seen(served.size(), {0, 0});
    while (!runner.draining()) {
      bool healthy = true;
      for (size_t i = 0; i < served.size(); ++i) {
        const auto& s = served[i];
        const auto load = s->engine->load();
        s->metrics->prefix_hits.Increment(load.prefix_cache_hits - prefix_seen[i].first);
        s->metrics->prefix_queries.Increment(load.prefix_cache_queries - prefix_seen[i].second);
        prefix_seen[i] = {load.prefix_cache_hits, load.prefix_cache_queries};
        const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count();
        // Stalled: a step started and has not finished for stall_seconds.
        const int64_t started = s->engine->step_started_nanos();
        if (started > s->engine->last_step_nanos() &&
            (now_ns - started) * 1e-9 > FLAGS_stall_seconds) {
          healthy = false;
        }
      }
      if (healthy != ready) {
        ready = healthy;
        LOG(WARNING) << "worker " << (ready ? "recovered" : "stalled: turning NOT_SERVING");
        runner.SetServing(name, ready);
        service.set_ready(ready);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  runner.Wait();
  service.set_ready(false);
  watchdog.join();
  for (auto& s : served) s->engine->Stop();
  return 0;
}
