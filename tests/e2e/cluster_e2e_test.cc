// End to end: the real processes (tokenizer service, two worker shards, gateway) started the
// way `sllm up` starts them, on free loopback ports, serving stories260K and a Llama-3-tokenizer
// model (byte-level BPE: Korean syllables span tokens), driven over gRPC, raw HTTP and the
// official openai npm client.
#include <signal.h>
#include <stdio.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "services/common/test_util.h"
#include "services/tokenizer/unicode.h"

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sllm/v1/generation.grpc.pb.h"
#include "sllm/v1/worker.grpc.pb.h"
#include "tests/e2e/e2e_util.h"
#include "tools/sllm/cluster.h"

namespace sllm {
namespace {

const std::string kModel = std::string(SLLM_MODELS_DIR) + "/stories260K";
const std::string kKoreanModel = std::string(SLLM_TESTDATA_DIR) + "/models/tiny-llama3";

namespace net = boost::asio;

using e2e::OpenStream;
using e2e::PostJson;

class ClusterE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tools::ClusterOptions o;
    o.bin_dir = SLLM_BIN_DIR;
    o.models = {kModel, kKoreanModel};
    o.workers = 2;
    o.worker_threads = 1;
    cluster_ = new tools::Cluster(o);
    const absl::Status st = cluster_->Start();
    ASSERT_TRUE(st.ok()) << st;
    stub_ = v1::Generation::NewStub(grpc::CreateChannel(cluster_->gateway_target(),
                                                        grpc::InsecureChannelCredentials()))
                .release();
    started_ = true;
  }
  // A failed SetUpTestSuite must fail every test (gtest would report them as skipped).
  void SetUp() override { ASSERT_TRUE(started_) << "the cluster did not start; see above"; }
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

  static inline bool started_ = false;
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

TEST_F(ClusterE2ETest, HttpEqualsGrpc) {
  grpc::ClientContext ctx;
  v1::GenerateResponse unary;
  ASSERT_TRUE(stub_->Generate(&ctx, Text("Once upon a time", 30), &unary).ok());
  auto [status, body] = PostJson(cluster_->http_port(), "/v1/completions",
                                 R"({"model": "stories260K", "prompt": "Once upon a time",
                                     "max_tokens": 30, "temperature": 0})");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(nlohmann::json::parse(body)["choices"][0]["text"], unary.text());
}

TEST_F(ClusterE2ETest, KoreanStreamsNeverBreakACharacter) {
  v1::ChatRequest r;
  r.set_model("tiny-llama3");
  auto* m = r.add_messages();
  m->set_role("user");
  m->set_content("안녕하세요! 오늘 서울 날씨는 어때요? 한국어로 대답해 주세요.");
  r.mutable_params()->set_max_tokens(64);
  r.mutable_params()->set_ignore_eos(true);
  r.mutable_params()->set_temperature(0);
  grpc::ClientContext uctx;
  v1::GenerateResponse unary;
  ASSERT_TRUE(stub_->Chat(&uctx, r, &unary).ok());
  EXPECT_EQ(unary.usage().completion_tokens(), 64u);
  grpc::ClientContext sctx;
  auto stream = stub_->ChatStream(&sctx, r);
  v1::GenerateStreamResponse chunk;
  std::string streamed;
  int chunks = 0;
  while (stream->Read(&chunk)) {
    EXPECT_TRUE(tokenizer::ValidateUtf8(chunk.text(), "delta").ok()) << chunks;
    streamed += chunk.text();
    ++chunks;
  }
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(streamed, unary.text());
  EXPECT_GT(chunks, 10);
}

TEST_F(ClusterE2ETest, TheOpenAiClientWorksUnchanged) {
  const std::string command = absl::StrCat(
      "node ", SLLM_SOURCE_DIR, "/tests/reference/openai_client_test.js http://127.0.0.1:",
      cluster_->http_port(), "/v1 stories260K tiny-llama3 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof(buf), pipe)) output.append(buf, n);
  EXPECT_EQ(pclose(pipe), 0) << output;
  EXPECT_NE(output.find("all checks passed"), std::string::npos) << output;
}

// The workers' sllm_requests_running, summed over shards and models, from /metrics.
// One worker shard's sllm_requests_running (summed over models), from its /metrics.
int ShardRunning(const tools::Cluster& cluster, int shard) {
  int total = 0;
  const std::regex line(R"(^sllm_requests_running\{[^}]*\} ([0-9.e+]+)$)");
  // metrics_ports: tokenizer, workers..., gateway.
  std::istringstream text(testing::HttpGet(cluster.metrics_ports()[1 + shard], "/metrics"));
  for (std::string l; std::getline(text, l);) {
    std::smatch m;
    if (std::regex_match(l, m, line)) total += static_cast<int>(std::stod(m[1]));
  }
  return total;
}

int WorkersRunning(const tools::Cluster& cluster) {
  int total = 0;
  for (size_t i = 0; i < cluster.worker_ports().size(); ++i) total += ShardRunning(cluster, i);
  return total;
}

TEST_F(ClusterE2ETest, CancellingCrossesEveryHop) {
  // A gRPC stream cancelled by its client, and an HTTP stream whose client disconnects.
  auto r = Text("Once upon a time", 400);
  r.mutable_params()->set_ignore_eos(true);
  grpc::ClientContext ctx;
  auto stream = stub_->GenerateStream(&ctx, r);
  v1::GenerateStreamResponse chunk;
  ASSERT_TRUE(stream->Read(&chunk));
  net::io_context ioc;
  std::string got;
  auto http = OpenStream(ioc, cluster_->http_port(), &got);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (WorkersRunning(*cluster_) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();  // The gauge is refreshed by the worker's watchdog.
  }
  EXPECT_GT(WorkersRunning(*cluster_), 0);
  ctx.TryCancel();
  http->close();  // The HTTP client hangs up mid-stream.
  while (stream->Read(&chunk)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  while (WorkersRunning(*cluster_) != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(WorkersRunning(*cluster_), 0);
}

// Runs last (gtest keeps declaration order): it kills a shard.
TEST_F(ClusterE2ETest, KillingOneShardKeepsTrafficFlowing) {
  // An HTTP stream is running on some shard: find it and kill it mid-stream.
  net::io_context ioc;
  std::string got;
  auto http = OpenStream(ioc, cluster_->http_port(), &got);
  int serving = -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (serving < 0 && std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 2 && serving < 0; ++i) {
      if (ShardRunning(*cluster_, i) > 0) serving = i;
    }
  }
  ASSERT_GE(serving, 0);
  ASSERT_EQ(kill(cluster_->pids()[1 + serving], SIGKILL), 0);  // tokenizer, workers, gateway.
  boost::system::error_code ec;
  char buf[4096];
  while (!ec) got.append(buf, http->read_some(net::buffer(buf), ec));
  // The stream ends with an error event the openai client raises, not a silent cut.
  EXPECT_NE(got.find("failed mid-stream"), std::string::npos) << got.substr(got.size() - 300);
  EXPECT_NE(got.find("\"code\":\"unavailable\""), std::string::npos);
  EXPECT_NE(got.find("\r\n0\r\n\r\n"), std::string::npos) << "the chunked body ends cleanly";
  // New requests go to the survivor.
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
