// The in-process cluster the hostile-input tables run against (issue 8): tokenizer service +
// one worker shard (stories260K, context 512, vocabulary 512) behind a gateway with
// --max_stop_strings 16. Shared by hostile_http_test.cc and hostile_grpc_test.cc.
#ifndef SLLM_GATEWAY_SERVER_HOSTILE_INPUT_FIXTURE_H_
#define SLLM_GATEWAY_SERVER_HOSTILE_INPUT_FIXTURE_H_

#include <chrono>
#include <string>
#include <thread>

#include "gateway/server/gateway_server.h"
#include "gateway/server/local_backends.h"
#include "gtest/gtest.h"
#include "services/common/test_util.h"
#include "sllm/v1/generation.grpc.pb.h"

namespace sllm::gateway::hostile_test {

// A prompt of stories260K far beyond its 512-token context (each repeat is several tokens).
inline std::string LongPrompt() {
  std::string s;
  for (int i = 0; i < 300; ++i) s += "Once upon a time ";
  return s;
}

class HostileInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    backends_ = new LocalBackends();
    worker::EngineOptions engine;
    engine.num_threads = 1;
    ASSERT_TRUE(backends_->Start(1, engine).ok());
    GatewayServerOptions o = backends_->GatewayOptions();
    o.limits.max_stop_strings = 16;  // --max_stop_strings
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

  // Waits (bounded) until the worker has no sequence running or waiting.
  static bool WorkersIdle() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      const auto load = backends_->engine(0).load();
      if (load.running == 0 && load.waiting == 0) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
  }

  static inline bool started_ = false;
  static inline LocalBackends* backends_;
  static inline GatewayServer* gateway_;
  static inline v1::Generation::Stub* stub_;
};

}  // namespace sllm::gateway::hostile_test

#endif  // SLLM_GATEWAY_SERVER_HOSTILE_INPUT_FIXTURE_H_
