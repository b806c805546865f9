// The gateway's gRPC front over real channels on port 0, in front of an in-process cluster:
// the tokenizer service and two worker shards serving the bundled stories260K model.
#include "gateway/grpc_front/generation_service.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>

#include "gateway/server/gateway_server.h"
#include "gateway/server/local_backends.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/test_util.h"

namespace sllm::gateway {
namespace {

const std::string kModelDir = std::string(SLLM_MODELS_DIR) + "/stories260K";

class GatewayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    backends_ = new LocalBackends();
    worker::EngineOptions engine;
    engine.num_threads = 1;
    ASSERT_TRUE(backends_->Start(2, engine).ok());
    GatewayServerOptions o = backends_->GatewayOptions();
    o.http.port = -1;  // gRPC only.
    gateway_ = new GatewayServer(o);
    ASSERT_TRUE(gateway_->Start().ok());
    stub_ = v1::Generation::NewStub(testing::InsecureChannel(gateway_->grpc_target())).release();
    started_ = true;
  }
  // A failed SetUpTestSuite must fail every test (gtest would report them as skipped).
  void SetUp() override { ASSERT_TRUE(started_) << "the cluster did not start; see above"; }
  static void TearDownTestSuite() {
    delete stub_;
    delete gateway_;
    delete backends_;
  }

  static v1::GenerateRequest Text(const std::string& text, uint32_t max_tokens) {
    v1::GenerateRequest r;
    r.set_model("stories260K");
    r.set_text(text);
    r.mutable_params()->set_max_tokens(max_tokens);
    r.mutable_params()->set_temperature(0);
    return r;
  }

  static std::string Stream(const v1::GenerateRequest& r, std::vector<std::string>* chunks,
                            v1::GenerateStreamResponse* last, grpc::Status* status) {
    grpc::ClientContext ctx;
    auto reader = stub_->GenerateStream(&ctx, r);
    v1::GenerateStreamResponse c;
    std::string text;
    while (reader->Read(&c)) {
      text += c.text();
      if (chunks) chunks->push_back(c.text());
      if (last) *last = c;
    }
    *status = reader->Finish();
    return text;
  }

  static inline bool started_ = false;
  static inline LocalBackends* backends_;
  static inline GatewayServer* gateway_;
  static inline v1::Generation::Stub* stub_;
};

TEST_F(GatewayTest, UnaryAndStreamGiveTheWorkersGreedyText) {
  std::ifstream in(kModelDir + "/reference/greedy_reference.json");
  const auto ref = nlohmann::json::parse(in)["cases"][0];
  const auto ids = ref["ids"].get<std::vector<uint32_t>>();
  grpc::ClientContext ctx;
  v1::GenerateResponse unary;
  ASSERT_TRUE(stub_->Generate(&ctx, Text("Once upon a time", 20), &unary).ok());
  EXPECT_EQ(std::vector<uint32_t>(unary.token_ids().begin(), unary.token_ids().end()),
            std::vector<uint32_t>(ids.begin() + 5, ids.begin() + 25));
  EXPECT_EQ(unary.finish_reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(unary.usage().prompt_tokens(), 5u);
  const std::string expected = ref["text"].get<std::string>().substr(16);
  EXPECT_EQ(expected.compare(0, unary.text().size(), unary.text()), 0) << unary.text();
  grpc::Status st;
  v1::GenerateStreamResponse last;
  EXPECT_EQ(Stream(Text("Once upon a time", 20), nullptr, &last, &st), unary.text());
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(last.usage().completion_tokens(), 20u);
}

TEST_F(GatewayTest, StopStringsNeverLeak) {
  auto r = Text("Once upon a time", 40);
  r.mutable_params()->add_stop("Lily");
  std::vector<std::string> chunks;
  v1::GenerateStreamResponse last;
  grpc::Status st;
  const std::string text = Stream(r, &chunks, &last, &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(text, ", there was a little girl named ");
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(last.stop_sequence(), "Lily");
  for (const auto& c : chunks) EXPECT_EQ(c.find("Li"), std::string::npos) << c;
}

TEST_F(GatewayTest, ValidationErrorsHaveTheirCodes) {
  auto call = [](v1::GenerateRequest r) {
    grpc::ClientContext ctx;
    v1::GenerateResponse resp;
    return stub_->Generate(&ctx, r, &resp);
  };
  auto r = Text("hi", 5);
  r.set_model("gpt-4");
  grpc::Status st = call(r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "model 'gpt-4' does not exist; served models: stories260K");
  r = Text("hi", 5);
  r.mutable_params()->set_temperature(-1);
  EXPECT_EQ(call(r).error_message(), "temperature must be a finite number >= 0, got -1");
  r = Text("hi", 0);
  EXPECT_EQ(call(r).error_message(), "max_tokens must be >= 1, got 0");
  r = Text("bad \xC3", 5);
  st = call(r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "prompt is not valid UTF-8: invalid byte 0xc3 at byte offset 4");
  r = Text("", 5);
  for (int i = 0; i < 600; ++i) r.mutable_ids()->add_ids(5);  // Beyond the 512 context.
  EXPECT_EQ(call(r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GatewayTest, ChatUsesTheModelsTemplate) {
  v1::ChatRequest r;
  r.set_model("stories260K");
  auto* m = r.add_messages();
  m->set_role("user");
  m->set_content("Once upon a time");
  r.mutable_params()->set_max_tokens(8);
  r.mutable_params()->set_temperature(0);
  grpc::ClientContext ctx;
  v1::GenerateResponse resp;
  ASSERT_TRUE(stub_->Chat(&ctx, r, &resp).ok());
  EXPECT_EQ(resp.usage().completion_tokens(), 8u);
  EXPECT_FALSE(resp.text().empty());
}

TEST_F(GatewayTest, TokenizeAndCountTokensPassThrough) {
  grpc::ClientContext ctx;
  v1::TokenizeRequest t;
  t.set_model("stories260K");
  t.set_text("Once upon a time");
  v1::TokenizeResponse tr;
  ASSERT_TRUE(stub_->Tokenize(&ctx, t, &tr).ok());
  EXPECT_EQ(std::vector<uint32_t>(tr.ids().begin(), tr.ids().end()),
            (std::vector<uint32_t>{1, 403, 407, 261, 378}));
  EXPECT_EQ(tr.max_context_length(), 512u);
  grpc::ClientContext cctx;
  v1::CountTokensRequest c;
  c.set_model("stories260K");
  c.set_text("Once upon a time");
  v1::CountTokensResponse cr;
  ASSERT_TRUE(stub_->CountTokens(&cctx, c, &cr).ok());
  EXPECT_EQ(cr.count(), 5u);
  EXPECT_EQ(cr.remaining(), 507u);
  grpc::ClientContext nctx;
  c.set_model("nope");
  EXPECT_EQ(stub_->CountTokens(&nctx, c, &cr).error_code(), grpc::StatusCode::NOT_FOUND);
}

// A client that does not read holds up the stream's writes (its flow-control window is full);
// what the gateway relays meanwhile joins one waiting chunk rather than queueing a message per
// token, and the client then gets the same text and ids in fewer chunks.
TEST_F(GatewayTest, ASlowReaderGetsTheSameTokensInFewerChunks) {
  constexpr uint32_t kTokens = 300;
  auto r = Text("Once upon a time", kTokens);
  r.mutable_params()->set_ignore_eos(true);
  grpc::ClientContext unary_ctx;
  v1::GenerateResponse unary;
  ASSERT_TRUE(stub_->Generate(&unary_ctx, r, &unary).ok());
  ASSERT_EQ(unary.token_ids_size(), static_cast<int>(kTokens));

  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);  // A 1 KiB stream window ...
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);                  // ... that does not grow.
  auto slow = v1::Generation::NewStub(grpc::CreateCustomChannel(
      gateway_->grpc_target(), grpc::InsecureChannelCredentials(), args));
  const auto e2e_count = [] {
    return testing::MetricSample(testing::HttpGet(gateway_->metrics_port(), "/metrics"),
                        "sllm_gateway_e2e_request_latency_seconds_count",
                        {"front=\"grpc\"", "model=\"stories260K\""});
  };
  const double before = std::max(0.0, e2e_count());
  grpc::ClientContext ctx;
  auto reader = slow->GenerateStream(&ctx, r);
  // Read nothing until the gateway has relayed the whole generation (its request timing ends
  // when the last chunk was handed to the stream, before the stream ends).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (e2e_count() < before + 1 && std::chrono::steady_clock::now() < deadline) {
  }
  ASSERT_EQ(e2e_count(), before + 1) << "the generation did not end within 60 s";

  v1::GenerateStreamResponse c;
  std::string text;
  std::vector<uint32_t> ids;
  int chunks = 0;
  while (reader->Read(&c)) {
    ++chunks;
    text += c.text();
    ids.insert(ids.end(), c.token_ids().begin(), c.token_ids().end());
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(text, unary.text());
  EXPECT_EQ(ids, std::vector<uint32_t>(unary.token_ids().begin(), unary.token_ids().end()));
  std::cout << "[slow reader] " << chunks << " chunks for " << kTokens << " tokens\n";
  // About 1 KiB of chunks fit the window, one more waits: far fewer than one per token.
  EXPECT_LT(chunks, static_cast<int>(kTokens) / 2) << chunks << " chunks";
}

TEST_F(GatewayTest, TrafficFlowsWhenAShardGoesDown) {
  backends_->StopWorker(1);
  for (int i = 0; i < 4; ++i) {
    grpc::ClientContext ctx;
    v1::GenerateResponse resp;
    ASSERT_TRUE(stub_->Generate(&ctx, Text("Once upon a time", 5), &resp).ok());
    EXPECT_EQ(resp.usage().completion_tokens(), 5u);
  }
}

}  // namespace
}  // namespace sllm::gateway
