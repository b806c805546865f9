// Faults, end to end: the real processes (tokenizer service, two worker shards, gateway) on
// loopback, each test with a cluster of its own because it kills, stalls or stops part of it.
//  - kill -9 of a shard under load: its running stream ends UNAVAILABLE, its queued requests
//    finish on the other shard, new requests go to the survivor, and a restarted shard is back
//    in rotation within a bound;
//  - the tokenizer service killed and restarted under a running gateway;
//  - SIGTERM to a worker and to the gateway: NOT_SERVING first, in-flight streams finish,
//    exit status 0;
//  - a worker whose step loop stalls turns NOT_SERVING and stops receiving traffic.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/test_util.h"
#include "sllm/v1/generation.grpc.pb.h"
#include "sllm/v1/worker.grpc.pb.h"
#include "tests/e2e/e2e_util.h"
#include "tools/sllm/cluster.h"

namespace sllm {
namespace {

using Clock = std::chrono::steady_clock;

#ifdef SLLM_SANITIZER_SLOWDOWN
constexpr int kSlowdown = SLLM_SANITIZER_SLOWDOWN;  // Sanitizer builds (see CMakeLists.txt).
#else
constexpr int kSlowdown = 1;
#endif
using e2e::ShardLoad;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

const std::string kModel = std::string(SLLM_MODELS_DIR) + "/stories260K";
constexpr size_t kTokenizer = 0;  // Index in Cluster::pids(): tokenizer, workers..., gateway.
constexpr size_t kGateway = 3;
size_t Worker(int shard) { return 1 + static_cast<size_t>(shard); }

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::unique_ptr<tools::Cluster> StartCluster(std::vector<std::string> worker_args = {},
                                             std::vector<std::string> tokenizer_args = {}) {
  tools::ClusterOptions o;
  o.tokenizer_args = std::move(tokenizer_args);
  o.bin_dir = SLLM_BIN_DIR;
  o.models = {kModel};
  o.workers = 2;
  o.worker_threads = 1;
  o.worker_args = std::move(worker_args);
  if (kSlowdown > 1) {
    // The default 10 s drain deadline, scaled like the other bounds: instrumented streams of
    // 300 tokens can outlast it.
    const std::string drain = absl::StrCat("--drain_seconds=", 10 * kSlowdown);
    o.worker_args.push_back(drain);
    o.gateway_args.push_back(drain);
  }
  auto cluster = std::make_unique<tools::Cluster>(o);
  const absl::Status st = cluster->Start();
  EXPECT_TRUE(st.ok()) << st;
  return st.ok() ? std::move(cluster) : nullptr;
}

std::unique_ptr<v1::Generation::Stub> Gateway(const tools::Cluster& cluster) {
  return v1::Generation::NewStub(testing::InsecureChannel(cluster.gateway_target()));
}

v1::GenerateRequest Text(uint32_t max_tokens) {
  v1::GenerateRequest r;
  r.set_model("stories260K");
  r.set_text("Once upon a time");
  r.mutable_params()->set_max_tokens(max_tokens);
  r.mutable_params()->set_temperature(0);
  r.mutable_params()->set_ignore_eos(true);
  return r;
}

grpc::Status Generate(v1::Generation::Stub& stub, uint32_t max_tokens,
                      v1::GenerateResponse* resp = nullptr) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::GenerateResponse local;
  return stub.Generate(&ctx, Text(max_tokens), resp != nullptr ? resp : &local);
}

// A streamed generation on a thread of its own: counts tokens, keeps the final status.
class Stream {
 public:
  Stream(v1::Generation::Stub& stub, uint32_t max_tokens) {
    thread_ = std::thread([this, &stub, max_tokens] {
      auto reader = stub.GenerateStream(&ctx_, Text(max_tokens));
      v1::GenerateStreamResponse chunk;
      while (reader->Read(&chunk)) {
        tokens_ += chunk.token_ids_size();
        if (chunk.finish_reason() == v1::FINISH_REASON_ERROR) error_chunk_ = true;
      }
      status_ = reader->Finish();
    });
  }
  ~Stream() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  int tokens() const { return tokens_; }
  bool error_chunk() const { return error_chunk_; }
  const grpc::Status& status() const { return status_; }

 private:
  grpc::ClientContext ctx_;
  std::atomic<int> tokens_{0};
  bool error_chunk_ = false;
  grpc::Status status_;
  std::thread thread_;
};

// Polls `done` until it holds or `seconds` pass.
template <typename F>
bool Eventually(F done, double seconds = 30) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::yield();
  }
  return done();
}

HealthCheckResponse::ServingStatus Health(int port, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(
      testing::InsecureChannel(absl::StrCat("127.0.0.1:", port)));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  HealthCheckRequest req;
  req.set_service(service);
  HealthCheckResponse resp;
  if (!stub->Check(&ctx, req, &resp).ok()) return HealthCheckResponse::UNKNOWN;
  return resp.status();
}

// A worker's own sllm_requests_total (all models and outcomes), from its /metrics.
double WorkerRequestsTotal(const tools::Cluster& cluster, int shard) {
  const std::string text = testing::HttpGet(cluster.metrics_ports()[Worker(shard)], "/metrics");
  double total = 0;
  size_t pos = 0;
  while ((pos = text.find("\nsllm_requests_total{", pos)) != std::string::npos) {
    const size_t end = text.find('\n', pos + 1);
    const std::string line = text.substr(pos + 1, end - pos - 1);
    total += std::stod(line.substr(line.rfind(' ') + 1));
    pos = end;
  }
  return total;
}

TEST(FaultE2ETest, AKilledShardLosesOnlyItsRunningStreamAndComesBack) {
  // One running sequence per shard: the others wait in the shard's queue.
  auto cluster = StartCluster({"--max_num_seqs=1"});
  ASSERT_NE(cluster, nullptr);
  auto stub = Gateway(*cluster);
  std::vector<std::unique_ptr<Stream>> streams;
  constexpr int kTokens = 500;
  for (int i = 0; i < 4; ++i) streams.push_back(std::make_unique<Stream>(*stub, kTokens));
  // Each shard runs one stream and queues one.
  std::string seen;  // The last loads polled, for the failure message.
  ASSERT_TRUE(Eventually([&] {
    bool spread = true;
    seen.clear();
    for (int shard : {0, 1}) {
      auto load = ShardLoad(*cluster, shard);
      if (!load) return false;
      absl::StrAppend(&seen, " shard ", shard, ": ", load->total().running(), " running + ",
                      load->total().waiting(), " queued;");
      spread = spread && load->total().running() == 1 && load->total().waiting() == 1;
    }
    return spread;
  })) << "the four streams did not spread over the two shards as 1 running + 1 queued each; "
      << "last seen:" << seen;
  ASSERT_EQ(kill(cluster->pids()[Worker(0)], SIGKILL), 0);
  cluster->WaitExit(Worker(0));
  int failed = 0, completed = 0;
  for (auto& s : streams) {
    s->Join();
    if (s->status().ok()) {
      ++completed;
      EXPECT_EQ(s->tokens(), kTokens);
    } else {
      ++failed;
      // It had tokens out already: an explicit mid-stream failure, not a silent cut.
      EXPECT_EQ(s->status().error_code(), grpc::StatusCode::UNAVAILABLE);
      EXPECT_NE(s->status().error_message().find("failed mid-stream"), std::string::npos)
          << s->status().error_message();
      EXPECT_TRUE(s->error_chunk());
      EXPECT_GT(s->tokens(), 0);
    }
  }
  // Only the stream running on the killed shard is lost; its queued one finished elsewhere.
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(completed, 3);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(Generate(*stub, 4).ok());

  // Restarted on the same port, the shard is routed to again.
  ASSERT_TRUE(cluster->Restart(Worker(0)).ok());
  const auto restarted = Clock::now();
  bool routed = false;
  while (!routed && Clock::now() - restarted < std::chrono::seconds(10 * kSlowdown)) {
    // Two long requests at once: the router gives the second to the less loaded shard.
    Stream a(*stub, 300), b(*stub, 300);
    a.Join();
    b.Join();
    ASSERT_TRUE(a.status().ok() && b.status().ok());
    routed = WorkerRequestsTotal(*cluster, 0) > 0;
  }
  const double back_after = Seconds(Clock::now() - restarted);
  std::cout << "[fault] restarted shard back in rotation " << back_after << " s after SERVING\n";
  EXPECT_TRUE(routed);
  // Shard poll every 0.2 s and reconnect backoff at most 1 s, plus the two generations (slower
  // when instrumented).
  EXPECT_LT(back_after, 5.0 * kSlowdown);
}

TEST(FaultE2ETest, ATokenizerRestartNeedsNoGatewayRestart) {
  auto cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  auto stub = Gateway(*cluster);
  ASSERT_TRUE(Generate(*stub, 4).ok());
  const pid_t gateway = cluster->pids()[kGateway];
  ASSERT_EQ(kill(cluster->pids()[kTokenizer], SIGKILL), 0);
  cluster->WaitExit(kTokenizer);
  // Meanwhile requests fail fast with UNAVAILABLE.
  const auto start = Clock::now();
  const grpc::Status down = Generate(*stub, 4);
  const double fail_after = Seconds(Clock::now() - start);
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE) << down.error_message();
  EXPECT_LT(fail_after, 2.0);
  ASSERT_TRUE(cluster->Restart(kTokenizer).ok());
  const auto restarted = Clock::now();
  grpc::Status st;
  while (Clock::now() - restarted < std::chrono::seconds(10)) {
    st = Generate(*stub, 4);
    if (st.ok()) break;
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
  }
  EXPECT_TRUE(st.ok()) << st.error_message();
  std::cout << "[fault] tokenizer down: requests failed in " << fail_after
            << " s; served again " << Seconds(Clock::now() - restarted)
            << " s after its restart\n";
  EXPECT_EQ(cluster->pids()[kGateway], gateway);
  EXPECT_EQ(kill(gateway, 0), 0);  // The same gateway process, still running.
}

TEST(FaultE2ETest, SigtermDrainsAWorkerThenTheGateway) {
  auto cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  auto stub = Gateway(*cluster);
  const auto start = Clock::now();
  // A stream runs on some shard: SIGTERM that shard.
  auto stream = std::make_unique<Stream>(*stub, 300);
  int shard = -1;
  ASSERT_TRUE(Eventually([&] {
    for (int s : {0, 1}) {
      auto load = ShardLoad(*cluster, s);
      if (load && load->total().running() > 0) shard = s;
    }
    return shard >= 0;
  }));
  const int worker_port = cluster->worker_ports()[static_cast<size_t>(shard)];
  ASSERT_EQ(kill(cluster->pids()[Worker(shard)], SIGTERM), 0);
  // Not ready first (health NOT_SERVING or already refusing calls), then drained.
  EXPECT_TRUE(Eventually([&] {
    return Health(worker_port, "sllm.v1.WorkerService") != HealthCheckResponse::SERVING;
  }));
  stream->Join();
  EXPECT_TRUE(stream->status().ok()) << stream->status().error_message();
  EXPECT_EQ(stream->tokens(), 300);
  const int worker_exit = cluster->WaitExit(Worker(shard));
  EXPECT_TRUE(WIFEXITED(worker_exit) && WEXITSTATUS(worker_exit) == 0) << worker_exit;
  EXPECT_TRUE(Generate(*stub, 4).ok());  // The other shard serves.

  // The gateway: a watcher sees NOT_SERVING, the running stream completes, exit status 0.
  auto health = grpc::health::v1::Health::NewStub(
      testing::InsecureChannel(cluster->gateway_target()));
  grpc::ClientContext watch_ctx;
  HealthCheckRequest req;
  req.set_service("sllm.v1.Generation");
  auto watch = health->Watch(&watch_ctx, req);
  HealthCheckResponse status;
  ASSERT_TRUE(watch->Read(&status));
  EXPECT_EQ(status.status(), HealthCheckResponse::SERVING);
  stream = std::make_unique<Stream>(*stub, 300);
  ASSERT_TRUE(Eventually([&] {
    auto load = ShardLoad(*cluster, 1 - shard);
    return load && load->total().running() > 0;
  }));
  ASSERT_EQ(kill(cluster->pids()[kGateway], SIGTERM), 0);
  ASSERT_TRUE(watch->Read(&status));
  EXPECT_EQ(status.status(), HealthCheckResponse::NOT_SERVING);
  watch_ctx.TryCancel();  // A watch is an open call too: the drain would wait for it.
  while (watch->Read(&status)) {
  }
  stream->Join();
  EXPECT_TRUE(stream->status().ok()) << stream->status().error_message();
  EXPECT_EQ(stream->tokens(), 300);
  const int gateway_exit = cluster->WaitExit(kGateway);
  EXPECT_TRUE(WIFEXITED(gateway_exit) && WEXITSTATUS(gateway_exit) == 0) << gateway_exit;
  std::cout << "[fault] SIGTERM: worker and gateway drained their streams and exited 0 in "
            << Seconds(Clock::now() - start) << " s\n";
}

TEST(FaultE2ETest, SigtermDrainsTheTokenizerWithoutLosingAStream) {
  // A drain deadline far beyond the test's bounds: the tokenizer must end its calls itself.
  auto cluster = StartCluster({}, {"--drain_seconds=600"});
  ASSERT_NE(cluster, nullptr);
  auto stub = Gateway(*cluster);
  auto stream = std::make_unique<Stream>(*stub, 300);
  // Running on a shard: past Encode, its tokens go through the gateway's decode stream.
  ASSERT_TRUE(Eventually([&] {
    for (int s : {0, 1}) {
      auto load = ShardLoad(*cluster, s);
      if (load && load->total().running() > 0) return true;
    }
    return false;
  }));
  const auto start = Clock::now();
  ASSERT_EQ(kill(cluster->pids()[kTokenizer], SIGTERM), 0);
  stream->Join();
  EXPECT_TRUE(stream->status().ok()) << stream->status().error_message();
  EXPECT_EQ(stream->tokens(), 300);
  EXPECT_FALSE(stream->error_chunk());
  // The gateway half-closes its decode stream once no sequence is left on it: the drain ends
  // long before its deadline.
  const pid_t tokenizer = cluster->pids()[kTokenizer];
  std::atomic<int> exit_status{-1};  // No wait status is -1.
  std::thread waiter([&] { exit_status = cluster->WaitExit(kTokenizer); });
  const bool exited = Eventually([&] { return exit_status.load() != -1; }, 30.0 * kSlowdown);
  if (!exited) kill(tokenizer, SIGKILL);  // Not reaped yet: the pid is still the tokenizer's.
  waiter.join();
  EXPECT_TRUE(exited) << "the tokenizer was still draining 30 s after SIGTERM";
  const int status = exit_status.load();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::cout << "[fault] SIGTERM: the tokenizer drained a running stream and exited 0 in "
            << Seconds(Clock::now() - start) << " s\n";
}

TEST(FaultE2ETest, AStalledWorkerTurnsNotReadyAndGetsNoTraffic) {
  const std::string stall = (std::filesystem::temp_directory_path() /
                             ("sllm_stall_" + std::to_string(::getpid())))
                                .string();
  std::remove(stall.c_str());
  // A shard is declared stalled after 1 s without a step while it has work.
  auto cluster = StartCluster({"--stall_seconds=1"});
  ASSERT_NE(cluster, nullptr);
  // Shard 0 again, with the test hook: its step loop blocks while the stall file exists.
  ASSERT_EQ(kill(cluster->pids()[Worker(0)], SIGTERM), 0);
  cluster->WaitExit(Worker(0));
  ASSERT_TRUE(cluster->Restart(Worker(0), {"--test_stall_file=" + stall}).ok());
  auto stub = Gateway(*cluster);
  {
    std::FILE* f = std::fopen(stall.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  // A request straight to shard 0: its engine steps once, then stalls.
  const int port0 = cluster->worker_ports()[0];
  auto worker0 = v1::WorkerService::NewStub(
      testing::InsecureChannel(absl::StrCat("127.0.0.1:", port0)));
  grpc::Status stuck_status;
  int stuck_tokens = 0;
  std::thread stuck([&] {
    grpc::ClientContext ctx;
    v1::WorkerGenerateRequest req;
    req.set_model("stories260K");
    for (uint32_t id : {1, 403, 407, 261, 378}) req.add_prompt_ids(id);
    req.mutable_stopping()->set_max_new_tokens(8);
    req.mutable_stopping()->set_ignore_eos(true);
    auto reader = worker0->Generate(&ctx, req);
    v1::WorkerGenerateResponse msg;
    while (reader->Read(&msg)) stuck_tokens += msg.token_ids_size();
    stuck_status = reader->Finish();
  });
  EXPECT_TRUE(Eventually([&] {
    return Health(port0, "sllm.v1.WorkerService") == HealthCheckResponse::NOT_SERVING;
  })) << "the stalled shard never turned NOT_SERVING";
  // The gateway's next poll drops it: every request goes to shard 1 and completes.
  ASSERT_TRUE(Eventually([&] {
    const double before = WorkerRequestsTotal(*cluster, 0);
    for (int i = 0; i < 4; ++i) {
      if (!Generate(*stub, 2).ok()) return false;
    }
    return WorkerRequestsTotal(*cluster, 0) == before;
  }, 10));
  const double before = WorkerRequestsTotal(*cluster, 0);
  for (int i = 0; i < 6; ++i) {
    v1::GenerateResponse resp;
    ASSERT_TRUE(Generate(*stub, 4, &resp).ok());
    EXPECT_EQ(resp.usage().completion_tokens(), 4u);
  }
  EXPECT_EQ(WorkerRequestsTotal(*cluster, 0), before);
  // The stall ends: shard 0 finishes its request and is ready again.
  std::remove(stall.c_str());
  stuck.join();
  EXPECT_TRUE(stuck_status.ok()) << stuck_status.error_message();
  EXPECT_EQ(stuck_tokens, 8);
  EXPECT_TRUE(Eventually([&] {
    return Health(port0, "sllm.v1.WorkerService") == HealthCheckResponse::SERVING;
  }));
}

}  // namespace
}  // namespace sllm
