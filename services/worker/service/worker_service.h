// gRPC edge of a worker shard: Generate streams the engine's tokens, GenerateStreams many
// requests' tokens over one call; GetInfo and GetLoad describe the shard. One engine per
// served model.
#ifndef SLLM_SERVICES_WORKER_SERVICE_WORKER_SERVICE_H_
#define SLLM_SERVICES_WORKER_SERVICE_WORKER_SERVICE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_set.h"

#include "absl/status/statusor.h"
#include "prometheus/registry.h"
#include "services/worker/engine/engine.h"
#include "services/worker/service/worker_metrics.h"
#include "sllm/v1/worker.grpc.pb.h"

namespace sllm::worker {

// One served model: its engine and metrics.
struct ServedEngine {
  std::string name;
  std::string dtype;
  std::string device;
  // Before the engine: requests the engine ends in its destructor still record metrics.
  std::unique_ptr<WorkerMetrics> metrics;
  std::unique_ptr<Engine> engine;
};

// Converts a request's proto fields into engine parameters; INVALID_ARGUMENT names the field.
absl::StatusOr<GenerateParams> ToGenerateParams(const v1::WorkerGenerateRequest& request);

class GenerateStreamsReactor;

class WorkerServiceImpl final : public v1::WorkerService::CallbackService {
 public:
  // Engines must be started (or stepped) by the owner; they must outlive the service.
  WorkerServiceImpl(uint32_t shard_id, std::string shard_name,
                    std::map<std::string, ServedEngine*> engines);

  grpc::ServerWriteReactor<v1::WorkerGenerateResponse>* Generate(
      grpc::CallbackServerContext* context, const v1::WorkerGenerateRequest* request) override;
  grpc::ServerBidiReactor<v1::WorkerStreamsRequest, v1::WorkerStreamsResponse>* GenerateStreams(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* GetInfo(grpc::CallbackServerContext* context,
                                    const v1::GetWorkerInfoRequest* request,
                                    v1::GetWorkerInfoResponse* response) override;
  grpc::ServerUnaryReactor* GetLoad(grpc::CallbackServerContext* context,
                                    const v1::GetLoadRequest* request,
                                    v1::GetLoadResponse* response) override;

  // Readiness as GetLoad reports it (set by the owner after warm-up; false while draining).
  void set_ready(bool ready) { ready_ = ready; }

  // The shard is shutting down: every GenerateStreams call tells its client to start new
  // requests elsewhere, and ends once its open ones have (see GenerateStreamsReactor::Drain).
  // Call when the drain begins (ServiceRunner::OnDrain). Thread-safe, idempotent.
  void Drain();

 private:
  absl::StatusOr<ServedEngine*> Find(const std::string& model) const;

  const uint32_t shard_id_;
  const std::string shard_name_;
  std::map<std::string, ServedEngine*> engines_;
  std::atomic<bool> ready_{false};
  std::mutex streams_mu_;
  absl::flat_hash_set<GenerateStreamsReactor*> streams_;  // Guarded by streams_mu_.
  bool draining_ = false;                                  // Guarded by streams_mu_.
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_SERVICE_WORKER_SERVICE_H_
