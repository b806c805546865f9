// sllm-gateway: the public entry point. gRPC (sllm.v1.Generation) over the tokenizer service
// and a set of worker shards.
//   sllm-gateway --tokenizer 127.0.0.1:50051 --workers 127.0.0.1:50061,127.0.0.1:50062
#include "absl/strings/str_split.h"
#include "gateway/core/pipeline.h"
#include "gateway/grpc_front/generation_service.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "grpcpp/grpcpp.h"
#include "services/common/flags.h"
#include "services/common/server.h"

DEFINE_string(tokenizer, "127.0.0.1:50051", "Tokenizer service address");
DEFINE_string(workers, "127.0.0.1:50061", "Worker shard addresses, comma-separated");
DEFINE_int32(max_tokens_cap, 8192, "Largest max_tokens a request may ask for");
DEFINE_int32(max_stop_strings, 16, "Most stop strings per request");

int main(int argc, char** argv) {
  sllm::SetServerFlagDefaults(/*port=*/50050, /*metrics_port=*/9090);
  gflags::SetUsageMessage("sllm-gateway --tokenizer HOST:PORT --workers HOST:PORT[,...]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;

  std::vector<std::string> workers = absl::StrSplit(FLAGS_workers, ',', absl::SkipEmpty());
  if (workers.empty()) {
    LOG(ERROR) << "--workers names no shard";
    return 2;
  }
  sllm::gateway::ShardPool shards(workers);
  shards.Start();
  sllm::gateway::GatewayLimits limits;
  limits.max_tokens_cap = FLAGS_max_tokens_cap;
  limits.max_stop_strings = FLAGS_max_stop_strings;
  sllm::gateway::Pipeline pipeline(
      grpc::CreateChannel(FLAGS_tokenizer, grpc::InsecureChannelCredentials()), shards, limits);

  sllm::ServiceRunner runner(sllm::ServerOptionsFromFlags());
  sllm::gateway::GenerationService service(pipeline, runner.registry());
  runner.AddService(&service);
  if (auto st = runner.Start(); !st.ok()) {
    LOG(ERROR) << st;
    return 1;
  }
  runner.SetServing("", true);
  runner.SetServing(sllm::v1::Generation::service_full_name(), true);
  LOG(INFO) << "gateway on " << runner.local_target() << " (tokenizer " << FLAGS_tokenizer << ", "
            << workers.size() << " worker shards), metrics on port " << runner.metrics_port();
  runner.Wait();
  shards.Stop();
  return 0;
}
