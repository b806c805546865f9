// One request's engine events as Generate messages: token ids, logprobs, the first token's
// timings, the last message's finish fields and usage, and the request's metrics (TTFT, ITL,
// end to end, token counts, outcome). Shared by Generate and GenerateStreams.
#ifndef SLLM_SERVICES_WORKER_SERVICE_GENERATION_RECORDER_H_
#define SLLM_SERVICES_WORKER_SERVICE_GENERATION_RECORDER_H_

#include <chrono>

#include "services/worker/engine/engine.h"
#include "services/worker/service/worker_metrics.h"
#include "sllm/v1/worker.pb.h"

namespace sllm::worker {

class GenerationRecorder {
 public:
  // `metrics` may be null (no metrics); it must outlive this object. The request's clock
  // starts now.
  explicit GenerationRecorder(WorkerMetrics* metrics);

  // kMessage: `*msg` is the event's message. kRefused: the engine refused the request after
  // Submit, before its first token (e.g. its queue filled up before admission); the call
  // should end with `event.error`'s status, as a refusal at Submit does, so that the gateway
  // can try another shard.
  enum class Result { kMessage, kRefused };
  Result Record(const TokenEvent& event, v1::WorkerGenerateResponse* msg);

  // Counts a request refused before the engine took it (bad parameters, a full queue, an
  // unknown model has no metrics and is not counted).
  static void CountRejected(WorkerMetrics* metrics);

 private:
  using Clock = std::chrono::steady_clock;
  WorkerMetrics* metrics_;
  Clock::time_point start_;
  Clock::time_point last_;  // Of the last token; start_ before the first.
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_SERVICE_GENERATION_RECORDER_H_
