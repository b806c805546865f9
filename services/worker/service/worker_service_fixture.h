// A worker service over a real channel on port 0, serving the bundled stories260K model as
// "stories" (float32, one thread, blocks of 8 tokens): the fixture of the service's tests.
#ifndef SLLM_SERVICES_WORKER_SERVICE_WORKER_SERVICE_FIXTURE_H_
#define SLLM_SERVICES_WORKER_SERVICE_WORKER_SERVICE_FIXTURE_H_

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/common/test_util.h"
#include "services/worker/service/worker_service.h"

namespace sllm::worker {

class WorkerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.host = "127.0.0.1";
    options.metrics_host = "127.0.0.1";
    options.handle_signals = false;
    runner_ = std::make_unique<ServiceRunner>(options);
    served_.name = "stories";
    served_.dtype = "float32";
    served_.device = "cpu";
    EngineOptions eo;
    eo.num_threads = 1;
    eo.scheduler.block_size = 8;
    auto engine = Engine::Create(std::string(SLLM_MODELS_DIR) + "/stories260K", eo);
    ASSERT_TRUE(engine.ok()) << engine.status();
    served_.engine = std::move(*engine);
    served_.metrics = std::make_unique<WorkerMetrics>(runner_->registry(), "stories");
    ASSERT_TRUE(served_.engine->WarmUp().ok());
    served_.engine->Start();
    service_ = std::make_unique<WorkerServiceImpl>(0, "test", std::map<std::string, ServedEngine*>{
                                                                  {"stories", &served_}});
    service_->set_ready(true);
    runner_->AddService(service_.get());
    ASSERT_TRUE(runner_->Start().ok());
    stub_ = v1::WorkerService::NewStub(testing::InsecureChannel(runner_->local_target()));
  }
  void TearDown() override {
    runner_->Shutdown();
    runner_->Wait();
    served_.engine->Stop();
  }

  // Runs a Generate call to the end; returns the token ids and the last message.
  grpc::Status Generate(const v1::WorkerGenerateRequest& req, std::vector<uint32_t>& ids,
                        v1::WorkerGenerateResponse& last) {
    grpc::ClientContext ctx;
    auto reader = stub_->Generate(&ctx, req);
    v1::WorkerGenerateResponse msg;
    while (reader->Read(&msg)) {
      ids.insert(ids.end(), msg.token_ids().begin(), msg.token_ids().end());
      last = msg;
    }
    return reader->Finish();
  }

  // GetLoad, asked until it shows no sequence running or waiting (the engine drops a finished
  // or cancelled one at a step's end) or 10 s have passed.
  v1::GetLoadResponse LoadWhenIdle() {
    v1::GetLoadResponse load;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
      grpc::ClientContext ctx;
      EXPECT_TRUE(stub_->GetLoad(&ctx, {}, &load).ok());
    } while (load.total().running() + load.total().waiting() != 0 &&
             std::chrono::steady_clock::now() < deadline);
    return load;
  }

  static v1::WorkerGenerateRequest Request(std::vector<uint32_t> prompt, uint32_t max_new) {
    v1::WorkerGenerateRequest req;
    req.set_model("stories");
    req.mutable_prompt_ids()->Add(prompt.begin(), prompt.end());
    req.mutable_sampling()->set_temperature(0);
    req.mutable_stopping()->set_max_new_tokens(max_new);
    return req;
  }

  std::unique_ptr<ServiceRunner> runner_;
  ServedEngine served_;
  std::unique_ptr<WorkerServiceImpl> service_;
  std::unique_ptr<v1::WorkerService::Stub> stub_;
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_SERVICE_WORKER_SERVICE_FIXTURE_H_
