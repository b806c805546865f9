// The three things sllm-loadgen can load: the gateway over gRPC (sllm.v1.Generation
// GenerateStream), the gateway over HTTP (OpenAI /v1/completions with stream: true) and one
// worker shard directly (sllm.v1.WorkerService Generate, token ids only).
#ifndef SLLM_BENCH_LOAD_CLIENT_H_
#define SLLM_BENCH_LOAD_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "bench/load/request.h"

namespace sllm::loadgen {

enum class TargetKind { kGatewayGrpc, kGatewayHttp, kWorker };

struct Target {
  TargetKind kind = TargetKind::kGatewayGrpc;
  std::string address;  // host:port
  // "grpc://host:port", "http://host:port" or "worker://host:port".
  std::string ToString() const;
};

// "grpc://", "http://" or "worker://" then host:port. INVALID_ARGUMENT naming --target otherwise.
absl::StatusOr<Target> ParseTarget(absl::string_view url);

// What the target says about the model it serves.
struct ModelInfo {
  std::string name;
  // Vocabulary size (0: the target does not say, as over HTTP).
  uint32_t vocab_size = 0;
  // Longest prompt + output (0: unknown).
  uint32_t max_context_length = 0;
};

// Sends requests on one thread; not thread-safe (each load thread has its own).
class Session {
 public:
  virtual ~Session() = default;
  // Sends one streaming request and waits for its end. Failures are in the result.
  virtual RequestResult Send(const RequestSpec& spec) = 0;
};

class LoadClient {
 public:
  virtual ~LoadClient() = default;
  // The model named `model`, or the first one served when empty; NOT_FOUND listing the
  // served models when it is not served.
  virtual absl::StatusOr<ModelInfo> Probe(const std::string& model) = 0;
  virtual std::unique_ptr<Session> NewSession() = 0;
  // Whether the target takes text prompts (the worker takes token ids only).
  virtual bool accepts_text() const { return true; }
};

// A client for `target`. Connections are made lazily.
std::unique_ptr<LoadClient> MakeClient(const Target& target);

// Implementations (grpc_clients.cc, http_client.cc).
std::unique_ptr<LoadClient> MakeGatewayGrpcClient(const std::string& address);
std::unique_ptr<LoadClient> MakeWorkerClient(const std::string& address);
std::unique_ptr<LoadClient> MakeHttpClient(const std::string& address);

}  // namespace sllm::loadgen

#endif  // SLLM_BENCH_LOAD_CLIENT_H_
