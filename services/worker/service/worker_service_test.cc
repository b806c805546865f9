// The worker service over a real channel on port 0, with the bundled stories260K model.
#include "services/worker/service/worker_service.h"

#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/server.h"
#include "services/common/test_util.h"
#include "services/worker/service/worker_service_fixture.h"

namespace sllm::worker {
namespace {

TEST_F(WorkerServiceTest, GenerateStreamsTheReferenceTokens) {
  std::ifstream in(std::string(SLLM_MODELS_DIR) + "/stories260K/reference/greedy_reference.json");
  const auto ref = nlohmann::json::parse(in)["cases"][0]["ids"].get<std::vector<uint32_t>>();
  std::vector<uint32_t> ids;
  v1::WorkerGenerateResponse last;
  ASSERT_TRUE(Generate(Request({ref.begin(), ref.begin() + 5}, 20), ids, last).ok());
  EXPECT_EQ(ids, std::vector<uint32_t>(ref.begin() + 5, ref.begin() + 25));
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(last.usage().prompt_tokens(), 5u);
  EXPECT_EQ(last.usage().completion_tokens(), 20u);
  const std::string metrics = testing::HttpGet(runner_->metrics_port(), "/metrics");
  EXPECT_NE(metrics.find(R"(sllm_requests_total{model="stories",outcome="length"} 1)"),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(sllm_generation_tokens_total{model="stories"} 20)"), std::string::npos);
  EXPECT_NE(metrics.find(R"(sllm_time_to_first_token_seconds_count{model="stories"} 1)"),
            std::string::npos);
}

TEST_F(WorkerServiceTest, ErrorsHaveTheirCodes) {
  std::vector<uint32_t> ids;
  v1::WorkerGenerateResponse last;
  auto req = Request({1, 2}, 4);
  req.set_model("nope");
  grpc::Status st = Generate(req, ids, last);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "model 'nope' is not served by this shard; models: stories");
  st = Generate(Request({}, 4), ids, last);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "prompt_ids must not be empty");
  st = Generate(Request({1, 9999}, 4), ids, last);
  EXPECT_EQ(st.error_message(), "prompt_ids[1] must be < 512 (the vocabulary size), got 9999");
  req = Request({1, 2}, 4);
  req.mutable_sampling()->set_top_p(0);
  st = Generate(req, ids, last);
  EXPECT_EQ(st.error_message(), "top_p must be in (0, 1], got 0");
  EXPECT_TRUE(ids.empty());
  // Still serving.
  ASSERT_TRUE(Generate(Request({1, 2}, 2), ids, last).ok());
  EXPECT_EQ(ids.size(), 2u);
}

// Issue 8: hostile requests straight to the worker, past the gateway's checks. Each is refused
// with its code and a message naming the field, the limit and the value; the worker then serves
// a normal request.
TEST_F(WorkerServiceTest, HostileRequestsGetNamedErrorsAndTheWorkerStaysHealthy) {
  struct Case {
    std::string name;
    v1::WorkerGenerateRequest request;
    grpc::StatusCode code;
    std::string message;
  };
  const auto kInvalid = grpc::StatusCode::INVALID_ARGUMENT;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto with = [](std::vector<uint32_t> prompt, std::function<void(v1::WorkerGenerateRequest&)> f) {
    v1::WorkerGenerateRequest r = Request(std::move(prompt), 4);
    f(r);
    return r;
  };
  const std::vector<uint32_t> context_full(512, 403);
  const std::vector<uint32_t> beyond_context(600, 403);
  const std::vector<Case> cases = {
      {"id_equal_to_the_vocabulary_size", Request({1, 512}, 4), kInvalid,
       "prompt_ids[1] must be < 512 (the vocabulary size), got 512"},
      // prompt_ids are uint32: a "negative" id arrives as a huge one.
      {"id_largest_uint32", Request({4294967295u}, 4), kInvalid,
       "prompt_ids[0] must be < 512 (the vocabulary size), got 4294967295"},
      {"empty_prompt", Request({}, 4), kInvalid, "prompt_ids must not be empty"},
      {"prompt_filling_the_context", Request(context_full, 4), kInvalid,
       "prompt_ids has 512 tokens; the context length is 512 and at least one token must be "
       "generated"},
      {"prompt_beyond_the_context", Request(beyond_context, 4), kInvalid,
       "prompt_ids has 600 tokens; the context length is 512 and at least one token must be "
       "generated"},
      {"max_new_tokens_zero", Request({1, 2}, 0), kInvalid, "max_new_tokens must be >= 1, got 0"},
      {"temperature_nan",
       with({1, 2}, [=](auto& r) { r.mutable_sampling()->set_temperature(nan); }), kInvalid, "temperature must be a finite number >= 0, got nan"},
      {"top_p_infinite",
       with({1, 2}, [](auto& r) {
         r.mutable_sampling()->set_top_p(std::numeric_limits<float>::infinity());
       }),
       kInvalid, "top_p must be in (0, 1], got inf"},
      {"repetition_penalty_negative",
       with({1, 2}, [](auto& r) { r.mutable_sampling()->set_repetition_penalty(-1); }), kInvalid,
       "repetition_penalty must be a finite number > 0, got -1"},
      {"top_logprobs_huge",
       with({1, 2}, [](auto& r) {
         r.mutable_logprobs()->set_enabled(true);
         r.mutable_logprobs()->set_top_logprobs(4000000000u);
       }),
       kInvalid, "top_logprobs must be in [0, 20], got 4000000000"},
      {"unknown_model", with({1, 2}, [](auto& r) { r.set_model("llama"); }),
       grpc::StatusCode::NOT_FOUND, "model 'llama' is not served by this shard; models: stories"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<uint32_t> ids;
    v1::WorkerGenerateResponse last;
    const grpc::Status st = Generate(c.request, ids, last);
    EXPECT_EQ(st.error_code(), c.code) << st.error_message();
    EXPECT_EQ(st.error_message(), c.message);
    EXPECT_TRUE(ids.empty());
    std::vector<uint32_t> ok_ids;
    ASSERT_TRUE(Generate(Request({1, 403}, 1), ok_ids, last).ok());
    EXPECT_EQ(ok_ids.size(), 1u);
  }
  // The largest max_new_tokens the proto can carry means "up to the context", as unset does
  // (it once wrapped to -1 and was refused as "got -1").
  std::vector<uint32_t> ids;
  v1::WorkerGenerateResponse last;
  auto largest = Request({1, 403, 407}, 4294967295u);
  largest.mutable_stopping()->set_min_new_tokens(4294967295u);
  const grpc::Status st = Generate(largest, ids, last);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(ids.size(), 512u - 3);
  const v1::GetLoadResponse load = LoadWhenIdle();
  EXPECT_EQ(load.total().running() + load.total().waiting(), 0u);
}

TEST_F(WorkerServiceTest, CancellingTheCallFreesTheSequence) {
  grpc::ClientContext ctx;
  auto reader = stub_->Generate(&ctx, Request({1, 403, 407}, 400));
  v1::WorkerGenerateResponse msg;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(reader->Read(&msg));
  ctx.TryCancel();
  while (reader->Read(&msg)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The engine drops the sequence at its next step; GetLoad shows it.
  const v1::GetLoadResponse load = LoadWhenIdle();
  EXPECT_EQ(load.total().running(), 0u);
  EXPECT_TRUE(load.ready());
}

// A client that does not read holds up the stream's writes (its flow-control window is full);
// the tokens generated meanwhile join one waiting message, and the client then gets the same
// ids in far fewer messages than tokens.
TEST_F(WorkerServiceTest, ASlowReaderGetsTheSameTokensInFewerMessages) {
  constexpr uint32_t kTokens = 300;
  auto req = Request({1, 403, 407, 261, 378}, kTokens);
  req.mutable_stopping()->set_ignore_eos(true);
  std::vector<uint32_t> expected;
  v1::WorkerGenerateResponse last;
  ASSERT_TRUE(Generate(req, expected, last).ok());
  ASSERT_EQ(expected.size(), kTokens);

  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);  // A 1 KiB stream window ...
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);                  // ... that does not grow.
  auto slow = v1::WorkerService::NewStub(grpc::CreateCustomChannel(
      runner_->local_target(), grpc::InsecureChannelCredentials(), args));
  const auto finished = [this] {
    return testing::MetricSample(testing::HttpGet(runner_->metrics_port(), "/metrics"),
                                 "sllm_requests_total",
                                 {"model=\"stories\"", "outcome=\"length\""});
  };
  grpc::ClientContext ctx;
  auto reader = slow->Generate(&ctx, req);
  // Read nothing until the engine has produced the last token (the request is counted then,
  // before its last message is queued).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (finished() < 2 && std::chrono::steady_clock::now() < deadline) {
  }
  ASSERT_EQ(finished(), 2) << "the generation did not end within 60 s";
  std::vector<uint32_t> ids;
  v1::WorkerGenerateResponse msg;
  int messages = 0;
  while (reader->Read(&msg)) {
    ++messages;
    ids.insert(ids.end(), msg.token_ids().begin(), msg.token_ids().end());
    last = msg;
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(last.usage().completion_tokens(), kTokens);
  std::cout << "[slow reader] " << messages << " messages for " << kTokens << " tokens\n";
  EXPECT_LT(messages, static_cast<int>(kTokens) / 2);
}

TEST_F(WorkerServiceTest, InfoDescribesTheShard) {
  grpc::ClientContext ctx;
  v1::GetWorkerInfoResponse info;
  ASSERT_TRUE(stub_->GetInfo(&ctx, {}, &info).ok());
  ASSERT_EQ(info.models_size(), 1);
  EXPECT_EQ(info.models(0).name(), "stories");
  EXPECT_EQ(info.models(0).architecture(), "LlamaForCausalLM");
  EXPECT_EQ(info.models(0).max_context_length(), 512u);
  EXPECT_EQ(info.models(0).vocab_size(), 512u);
  EXPECT_EQ(std::vector<uint32_t>(info.models(0).eos_token_ids().begin(),
                                  info.models(0).eos_token_ids().end()),
            (std::vector<uint32_t>{2, 1}));
}

}  // namespace
}  // namespace sllm::worker
