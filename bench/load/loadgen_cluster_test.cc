// sllm-loadgen's library against a real local cluster of stories260K (tokenizer service, one
// worker shard, gateway: the processes `sllm up` starts): every target gets every request back
// with exactly the asked-for number of tokens and no error.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "bench/load/loadgen.h"
#include "gtest/gtest.h"
#include "tools/sllm/cluster.h"

namespace sllm::loadgen {
namespace {

const std::string kModel = std::string(SLLM_MODELS_DIR) + "/stories260K";

class LoadgenClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tools::ClusterOptions o;
    o.bin_dir = SLLM_BIN_DIR;
    o.models = {kModel};
    o.workers = 1;
    o.worker_threads = 1;
    cluster_ = new tools::Cluster(o);
    const absl::Status st = cluster_->Start();
    ASSERT_TRUE(st.ok()) << st;
    started_ = true;
  }
  void SetUp() override { ASSERT_TRUE(started_) << "the cluster did not start; see above"; }
  static void TearDownTestSuite() { delete cluster_; }

  static std::string Grpc() { return "grpc://" + cluster_->gateway_target(); }
  static std::string Http() { return absl::StrCat("http://127.0.0.1:", cluster_->http_port()); }
  static std::string Worker() {
    return absl::StrCat("worker://127.0.0.1:", cluster_->worker_ports()[0]);
  }

  static LoadgenOptions Options(const std::string& target) {
    LoadgenOptions o;
    o.target = target;
    o.num_requests = 8;
    o.concurrency = 4;
    o.prompt_len = "16";
    o.output_len = "16";
    o.seed = 5;
    o.timeout_s = 30;
    return o;
  }

  // Every request succeeded with exactly the tokens asked for, streamed and in the usage.
  static void ExpectAllExact(const LoadgenOptions& o) {
    SCOPED_TRACE(o.target);
    auto run = RunLoadgen(o);
    ASSERT_TRUE(run.ok()) << run.status();
    const Report& r = run->report;
    EXPECT_EQ(r.requests, o.num_requests);
    EXPECT_EQ(r.completed, o.num_requests);
    EXPECT_TRUE(r.errors.empty()) << r.errors.begin()->first << ": "
                                  << r.error_examples.begin()->second;
    EXPECT_EQ(r.length_mismatches, 0);
    EXPECT_EQ(r.token_count_mismatches, 0);
    ASSERT_EQ(run->results.size(), static_cast<size_t>(o.num_requests));
    for (const RequestResult& q : run->results) {
      EXPECT_TRUE(q.ok) << q.error << ": " << q.error_message;
      EXPECT_EQ(q.output_tokens, q.requested_output_tokens);
      EXPECT_EQ(q.usage_output_tokens, q.requested_output_tokens);
      EXPECT_GE(q.ttft_s, 0);
      EXPECT_GE(q.e2e_s, q.ttft_s);
    }
    EXPECT_GT(r.output_throughput, 0);
    EXPECT_GT(r.ttft_ms.p50, 0);
    EXPECT_GT(r.itl_ms.count, 0u);
  }

  static inline bool started_ = false;
  static inline tools::Cluster* cluster_ = nullptr;
};

// ctest runs each test in a process of its own, each starting a cluster (~3 s): few tests.
TEST_F(LoadgenClusterTest, EveryTargetWithTokenIdPrompts) {
  for (const std::string& target : {Grpc(), Http(), Worker()}) {
    LoadgenOptions o = Options(target);
    if (target == Http()) o.vocab_size = 512;  // The OpenAI API does not report it.
    ExpectAllExact(o);
  }
}

// With the tokenizer, the gateway gets text of exactly --prompt-len tokens and the worker the
// same ids.
TEST_F(LoadgenClusterTest, EveryTargetWithTextPromptsOfExactLength) {
  for (const std::string& target : {Grpc(), Http(), Worker()}) {
    LoadgenOptions o = Options(target);
    o.tokenizer = kModel;
    o.prompt_len = "8:24";
    o.output_len = "4:12";
    auto run = RunLoadgen(o);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->report.config.prompt_format, target == Worker() ? "ids" : "text");
    ExpectAllExact(o);
  }
}

TEST_F(LoadgenClusterTest, PoissonArrivalsPromptsFileAndClearErrors) {
  const std::string path = ::testing::TempDir() + "/cluster_prompts.jsonl";
  std::ofstream(path) << "{\"prompt\": \"Once upon a time\"}\n"
                         "{\"prompt_ids\": [1, 365, 441], \"output_len\": 5}\n";
  LoadgenOptions o = Options(Grpc());
  o.rate = 50;
  o.prompts_file = path;
  o.output_len = "9";
  ExpectAllExact(o);

  o = Options(Grpc());
  o.model = "nope";
  auto run = RunLoadgen(o);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("stories260K"), std::string::npos) << run.status();

  o = Options(Worker());
  o.prompt_format = "text";
  run = RunLoadgen(o);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("token ids only"), std::string::npos) << run.status();
}

}  // namespace
}  // namespace sllm::loadgen
