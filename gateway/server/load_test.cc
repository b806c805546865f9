// The gateway under load, in-process over real loopback sockets (tokenizer service and two
// stories260K shards behind a GatewayServer):
//  - twice the cluster's capacity at once: the excess is refused with RESOURCE_EXHAUSTED and a
//    retry hint, every admitted request completes, TTFT of the admitted stays bounded;
//  - 200 clients (SSE over HTTP and gRPC streams) that disconnect or cancel at random points:
//    every sequence stops, the workers' running, waiting and KV-usage numbers return to zero.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/asio.hpp"
#include "gateway/server/gateway_server.h"
#include "gateway/server/local_backends.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/test_util.h"
#include "sllm/v1/generation.grpc.pb.h"

namespace sllm::gateway {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

v1::GenerateRequest Text(const std::string& text, uint32_t max_tokens) {
  v1::GenerateRequest r;
  r.set_model("stories260K");
  r.set_text(text);
  r.mutable_params()->set_max_tokens(max_tokens);
  r.mutable_params()->set_ignore_eos(true);
  r.mutable_params()->set_temperature(0);
  return r;
}

// A cluster of its own per suite: the engine options are the suite's capacity.
class Cluster {
 public:
  explicit Cluster(const worker::EngineOptions& engine) {
    ok_ = backends_.Start(2, engine).ok();
    if (!ok_) return;
    gateway_ = std::make_unique<GatewayServer>(backends_.GatewayOptions());
    ok_ = gateway_->Start().ok();
    stub_ = v1::Generation::NewStub(testing::InsecureChannel(gateway_->grpc_target()));
  }
  bool ok() const { return ok_; }
  GatewayServer& gateway() { return *gateway_; }
  v1::Generation::Stub& stub() { return *stub_; }
  // Every shard idle: nothing running or waiting, no KV block in use.
  bool Idle() {
    for (int s = 0; s < 2; ++s) {
      const worker::EngineLoad load = backends_.engine(s).load();
      if (load.running != 0 || load.waiting != 0 || load.blocks_used != 0) return false;
    }
    return gateway_->openai().in_flight() == 0;
  }
  bool WaitIdle(double seconds) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (!Idle() && Clock::now() < deadline) std::this_thread::yield();
    return Idle();
  }

 private:
  LocalBackends backends_;
  std::unique_ptr<GatewayServer> gateway_;
  std::unique_ptr<v1::Generation::Stub> stub_;
  bool ok_ = false;
};

TEST(GatewayLoadTest, TwiceTheCapacityRefusesTheExcessAndCompletesTheAdmitted) {
  // Capacity: per shard 4 running + 4 queued sequences -> 16 in the cluster.
  worker::EngineOptions engine;
  engine.num_threads = 1;
  engine.scheduler.max_num_seqs = 4;
  engine.scheduler.max_waiting = 4;
  Cluster cluster(engine);
  ASSERT_TRUE(cluster.ok());
  constexpr int kClients = 32;  // Twice the capacity, all at once.
  constexpr uint32_t kTokens = 64;
  struct Outcome {
    grpc::Status status;
    int tokens = 0;
    double ttft = -1;
    std::string retry_after;
    std::string finish;  // The last chunk's finish reason and error message.
  };
  std::vector<Outcome> out(kClients);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
      ++ready;
      while (!go) std::this_thread::yield();
      const auto start = Clock::now();
      auto reader = cluster.stub().GenerateStream(
          &ctx, Text(absl::StrCat("Once upon a time, story ", i), kTokens));
      v1::GenerateStreamResponse chunk;
      while (reader->Read(&chunk)) {
        if (out[i].ttft < 0 && !chunk.text().empty()) out[i].ttft = Seconds(Clock::now() - start);
        out[i].tokens += chunk.token_ids_size();
        if (chunk.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) {
          out[i].finish = absl::StrCat(v1::FinishReason_Name(chunk.finish_reason()), " ",
                                       chunk.error_message());
        }
      }
      out[i].status = reader->Finish();
      const auto& trailers = ctx.GetServerTrailingMetadata();
      if (auto it = trailers.find("retry-after"); it != trailers.end()) {
        out[i].retry_after.assign(it->second.data(), it->second.size());
      }
    });
  }
  while (ready < kClients) std::this_thread::yield();
  go = true;
  for (auto& t : threads) t.join();
  int admitted = 0, refused = 0;
  std::vector<double> ttfts;
  for (const Outcome& o : out) {
    if (o.status.ok()) {
      ++admitted;
      EXPECT_EQ(o.tokens, static_cast<int>(kTokens)) << o.finish;  // Admitted: completed.
      ttfts.push_back(o.ttft);
    } else {
      ++refused;
      EXPECT_EQ(o.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
          << o.status.error_message();
      EXPECT_EQ(o.retry_after, "1");
      EXPECT_EQ(o.tokens, 0);
    }
  }
  std::sort(ttfts.begin(), ttfts.end());
  ASSERT_FALSE(ttfts.empty());
  const double p50 = ttfts[ttfts.size() / 2];
  const double p99 = ttfts[std::min(ttfts.size() - 1, ttfts.size() * 99 / 100)];
  std::cout << "[overload] " << kClients << " clients at once on a capacity of 16: " << admitted
            << " admitted and completed, " << refused << " refused with a retry hint; TTFT of "
            << "the admitted p50 " << p50 << " s, p99 " << p99 << " s\n";
  EXPECT_GE(admitted, 8);  // At least the running slots of both shards.
  EXPECT_GT(refused, 0);
  EXPECT_LT(p99, 10.0);  // Queued requests wait behind at most one generation of 64 tokens.
  EXPECT_TRUE(cluster.WaitIdle(30));
  // After the burst the cluster serves normally again.
  grpc::ClientContext ctx;
  v1::GenerateResponse resp;
  EXPECT_TRUE(cluster.stub().Generate(&ctx, Text("Once upon a time", 8), &resp).ok());
}

TEST(GatewayLoadTest, TwoHundredClientsThatVanishLeaveNothingRunning) {
  worker::EngineOptions engine;
  engine.num_threads = 1;
  engine.scheduler.max_num_seqs = 256;
  engine.scheduler.max_waiting = 256;
  engine.scheduler.max_num_batched_tokens = 4096;
  engine.kv_cache_tokens = 131072;
  Cluster cluster(engine);
  ASSERT_TRUE(cluster.ok());
  const int http_port = cluster.gateway().http_port();
  constexpr int kClients = 200;
  std::mt19937 rng(2026);
  // Where each client gives up: 0 = right after sending its request, k = after k events.
  std::vector<int> stop_after(kClients);
  for (int& k : stop_after) k = std::uniform_int_distribution<int>(0, 30)(rng);
  std::atomic<int> http_cut{0}, grpc_cancelled{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      const std::string prompt = absl::StrCat("Once upon a time, client ", i);
      if (i % 2 == 0) {
        // An SSE client that closes its connection.
        net::io_context ioc;
        tcp::socket socket(ioc);
        socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                     static_cast<uint16_t>(http_port)));
        const std::string body = absl::StrCat(
            R"({"model": "stories260K", "stream": true, "max_tokens": 300, "ignore_eos": true,)",
            R"( "prompt": ")", prompt, R"("})");
        net::write(socket, net::buffer(absl::StrCat(
                               "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                               "application/json\r\nContent-Length: ", body.size(), "\r\n\r\n",
                               body)));
        std::string got;
        char buf[4096];
        boost::system::error_code ec;
        int events = 0;
        while (events < stop_after[i] && !ec) {
          got.append(buf, socket.read_some(net::buffer(buf), ec));
          events = 0;
          for (size_t p = got.find("data: "); p != std::string::npos; p = got.find("data: ", p + 1)) {
            ++events;
          }
        }
        socket.close();
        ++http_cut;
      } else {
        // A gRPC client that cancels its stream.
        grpc::ClientContext ctx;
        auto reader = cluster.stub().GenerateStream(&ctx, Text(prompt, 300));
        v1::GenerateStreamResponse chunk;
        for (int k = 0; k < stop_after[i] && reader->Read(&chunk); ++k) {
        }
        ctx.TryCancel();
        while (reader->Read(&chunk)) {
        }
        reader->Finish();
        ++grpc_cancelled;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(http_cut + grpc_cancelled, kClients);
  // Every sequence stops: nothing running or queued, every KV block back, no generation
  // thread left in the gateway.
  const auto start = Clock::now();
  EXPECT_TRUE(cluster.WaitIdle(60));
  std::cout << "[cancel] " << kClients << " clients gone at random points; the cluster was idle "
            << Seconds(Clock::now() - start) << " s after the last one left\n";
  grpc::ClientContext ctx;
  v1::GenerateResponse resp;
  EXPECT_TRUE(cluster.stub().Generate(&ctx, Text("Once upon a time", 8), &resp).ok());
}

}  // namespace
}  // namespace sllm::gateway
