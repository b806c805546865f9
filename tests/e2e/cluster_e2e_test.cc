// End to end: the real processes (tokenizer service, two worker shards, gateway) started the
// way `sllm up` starts them, on free loopback ports, driven over gRPC.
#include <signal.h>

#include <fstream>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sllm/v1/generation.grpc.pb.h"
#include "sllm/v1/worker.grpc.pb.h"
#include "tools/sllm/cluster.h"

namespace sllm {
namespace {

const std::string kModel = std::string(SLLM_MODELS_DIR) + "/stories260K";

class ClusterE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tools::ClusterOptions o;
    o.bin_dir = SLLM_BIN_DIR;
    o.models = {kModel};
    o.workers = 2;
    o.worker_threads = 1;
    cluster_ = new tools::Cluster(o);
    const absl::Status st = cluster_->Start();
    ASSERT_TRUE(st.ok()) << st;
    stub_ = v1::Generation::NewStub(grpc::CreateChannel(cluster_->gateway_target(),
                                                        grpc::InsecureChannelCredentials()))
                .release();
  }
  static void TearDownTestSuite() {
    delete stub_;
    delete cluster_;  // SIGTERM to every process, then waits.
  }

  static v1::GenerateRequest Text(const std::string& text, uint32_t max_tokens) {
    v1::GenerateRequest r;
    r.set_model("stories260K");
    r.set_text(text);
    r.mutable_params()->set_max_tokens(max_tokens);
    r.mutable_params()->set_temperature(0);
    return r;
  }

  static inline tools::Cluster* cluster_ = nullptr;
  static inline v1::Generation::Stub* stub_ = nullptr;
};

TEST_F(ClusterE2ETest, GatewayEqualsWorkerAndStreamEqualsUnary) {
  // The worker directly, on the ids of llama2.c's reference prompt.
  std::ifstream in(kModel + "/reference/greedy_reference.json");
  const auto ids = nlohmann::json::parse(in)["cases"][0]["ids"].get<std::vector<uint32_t>>();
  auto worker = v1::WorkerService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(cluster_->worker_ports()[0]),
      grpc::InsecureChannelCredentials()));
  v1::WorkerGenerateRequest wreq;
  wreq.set_model("stories260K");
  wreq.mutable_prompt_ids()->Add(ids.begin(), ids.begin() + 5);
  wreq.mutable_sampling()->set_temperature(0);
  wreq.mutable_stopping()->set_max_new_tokens(30);
  grpc::ClientContext wctx;
  auto reader = worker->Generate(&wctx, wreq);
  std::vector<uint32_t> worker_ids;
  v1::WorkerGenerateResponse msg;
  while (reader->Read(&msg)) worker_ids.insert(worker_ids.end(), msg.token_ids().begin(), msg.token_ids().end());
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(worker_ids, std::vector<uint32_t>(ids.begin() + 5, ids.begin() + 35));

  grpc::ClientContext uctx;
  v1::GenerateResponse unary;
  ASSERT_TRUE(stub_->Generate(&uctx, Text("Once upon a time", 30), &unary).ok());
  EXPECT_EQ(std::vector<uint32_t>(unary.token_ids().begin(), unary.token_ids().end()), worker_ids);

  grpc::ClientContext sctx;
  auto stream = stub_->GenerateStream(&sctx, Text("Once upon a time", 30));
  v1::GenerateStreamResponse chunk;
  std::string streamed;
  while (stream->Read(&chunk)) streamed += chunk.text();
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(streamed, unary.text());
  EXPECT_EQ(streamed.rfind(", there was a little girl named Lily.", 0), 0u) << streamed;
}

TEST_F(ClusterE2ETest, StopStringsAndValidationAcrossProcesses) {
  auto r = Text("Once upon a time", 40);
  r.mutable_params()->add_stop(" named");
  grpc::ClientContext ctx;
  v1::GenerateResponse resp;
  ASSERT_TRUE(stub_->Generate(&ctx, r, &resp).ok());
  EXPECT_EQ(resp.text(), ", there was a little girl");
  EXPECT_EQ(resp.finish_reason(), v1::FINISH_REASON_STOP);
  r = Text("hello", 10);
  r.mutable_params()->set_top_p(2);
  grpc::ClientContext bad;
  const grpc::Status st = stub_->Generate(&bad, r, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "top_p must be in (0, 1], got 2");
}

// Runs last (gtest keeps declaration order): it kills a shard.
TEST_F(ClusterE2ETest, KillingOneShardKeepsTrafficFlowing) {
  const pid_t worker1 = cluster_->pids()[2];  // tokenizer, worker 0, worker 1, gateway.
  ASSERT_EQ(kill(worker1, SIGKILL), 0);
  for (int i = 0; i < 6; ++i) {
    grpc::ClientContext ctx;
    v1::GenerateResponse resp;
    const grpc::Status st = stub_->Generate(&ctx, Text("Once upon a time", 8), &resp);
    ASSERT_TRUE(st.ok()) << "request " << i << ": " << st.error_message();
    EXPECT_EQ(resp.usage().completion_tokens(), 8u);
  }
}

}  // namespace
}  // namespace sllm
