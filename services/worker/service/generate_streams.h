// One GenerateStreams call: the sequences a client (the gateway) starts and cancels on it, and
// one message per engine step with every sequence's new tokens. The engine delivers a step's
// events one sequence at a time; they are gathered, and sent once the step is over (an engine
// step listener), so a shard stepping 16 sequences makes one write per step rather than 16,
// and the gateway one read. A message that cannot go yet (the client reads slowly) takes the
// later events too, merged per sequence.
#ifndef SLLM_SERVICES_WORKER_SERVICE_GENERATE_STREAMS_H_
#define SLLM_SERVICES_WORKER_SERVICE_GENERATE_STREAMS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/support/server_callback.h"
#include "services/worker/service/worker_service.h"
#include "sllm/v1/worker.pb.h"

namespace sllm::worker {

class GenerateStreamsReactor final
    : public grpc::ServerBidiReactor<v1::WorkerStreamsRequest, v1::WorkerStreamsResponse> {
 public:
  // The engine serving a model, or NOT_FOUND naming the served ones.
  using FindEngine = std::function<absl::StatusOr<ServedEngine*>(const std::string& model)>;

  // `on_done` runs once gRPC is done with the call, just before this object is deleted.
  // `draining`: the shard is already shutting down (see Drain).
  GenerateStreamsReactor(FindEngine find, std::function<void(GenerateStreamsReactor*)> on_done,
                         bool draining);

  // The shard is shutting down: tells the client (WorkerStreamsResponse.draining), refuses
  // later starts with UNAVAILABLE, and serves the open sequences to their end. Thread-safe.
  void Drain();

  // grpc::ServerBidiReactor.
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  struct Shared;  // State the engine's callbacks share; outlives this object.

 private:
  void StartSequence(const v1::WorkerStreamsRequest::Start& start);
  void CancelSequence(uint64_t sequence);

  const FindEngine find_;
  const std::function<void(GenerateStreamsReactor*)> on_done_;
  const std::shared_ptr<Shared> shared_;
  v1::WorkerStreamsRequest request_;  // Owned by the read in flight.
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_SERVICE_GENERATE_STREAMS_H_
