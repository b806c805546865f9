// The worker's engine: one model, its paged KV cache, the continuous-batching scheduler and a
// sampler per sequence. Requests are submitted from any thread; one engine thread runs the
// steps and reports every token through the request's callback.
#ifndef SLLM_SERVICES_WORKER_ENGINE_ENGINE_H_
#define SLLM_SERVICES_WORKER_ENGINE_ENGINE_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "services/worker/kv_cache/block_allocator.h"
#include "services/worker/kv_cache/kv_cache.h"
#include "services/worker/model/model_loader.h"
#include "services/worker/sampling/sampler.h"
#include "services/worker/scheduler/scheduler.h"
#include "services/worker/scheduler/stop_rules.h"

namespace sllm::worker {

struct EngineOptions {
  // Device and serving dtype of the model.
  ModelOptions model;
  // Intra-op threads for the model (libtorch defaults to 1); 0 keeps libtorch's setting.
  int32_t num_threads = 0;
  // KV cache size in tokens (rounded up to whole blocks); 0 = enough for max_num_seqs
  // sequences of the model's full context, capped at 64 Ki tokens.
  int64_t kv_cache_tokens = 0;
  // Context length served; 0 = the model's max_position_embeddings.
  int32_t max_model_len = 0;
  // Batching limits (block_size, token budget, running and waiting bounds); its max_model_len
  // is set from the field above.
  SchedulerOptions scheduler;
  // Seed of the stream that seeds requests without a seed of their own.
  uint64_t seed = 0x5EED;
  // Called on the engine thread after every model step (metrics).
  std::function<void(const struct StepStats&)> on_step;
  // Called on the engine thread with the new load after every step and before the last event
  // of each request, so whoever has seen a request end reads a load without it (gauges).
  std::function<void(const struct EngineLoad&)> on_load;
};

struct StepStats {
  double seconds = 0;       // Wall time of the model step.
  int32_t batch_size = 0;   // Sequences in the step.
  int32_t num_tokens = 0;   // Tokens computed (prompt chunks and decodes).
};

// One generated token, or the end of a request.
struct TokenEvent {
  bool has_token = false;
  uint32_t token = 0;
  float logprob = 0.0f;
  std::vector<TokenLogprob> top_logprobs;
  // Set on the last event of a request.
  bool finished = false;
  FinishReason finish_reason = FinishReason::kNone;
  absl::Status error;  // With finish_reason kError.
  int32_t prompt_tokens = 0;
  int32_t cached_tokens = 0;  // Prompt tokens served from the prefix cache.
  int32_t completion_tokens = 0;
  // On the first token: time from submission to the first step that included the request.
  int64_t queue_nanos = 0;
};

// Called on the engine thread, in order; must return quickly.
using TokenCallback = std::function<void(const TokenEvent&)>;

struct GenerateParams {
  std::vector<int64_t> prompt;
  SamplingParams sampling;
  // max_new_tokens, min_new_tokens, stop ids, ignore_eos. eos_ids and max_model_len are
  // filled from the model when left empty / zero.
  StoppingCriteria stopping;
};

struct EngineLoad {
  int32_t running = 0;
  int32_t waiting = 0;
  int32_t blocks_used = 0;
  int32_t blocks_total = 0;
  int64_t prefix_cache_hits = 0;
  int64_t prefix_cache_queries = 0;
  // Prompt tokens still to compute plus max_new_tokens still to generate, over every request
  // accepted and not finished (Scheduler::outstanding_tokens, and the not yet admitted ones).
  int64_t outstanding_tokens = 0;
};

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const std::string& model_dir,
                                                        const EngineOptions& options);
  ~Engine();

  // Validates and queues a request; returns its id. INVALID_ARGUMENT names the bad field;
  // RESOURCE_EXHAUSTED when the engine cannot take it. The callback then receives each token
  // and a final event (also on cancellation or error).
  absl::StatusOr<uint64_t> Submit(GenerateParams params, TokenCallback callback);

  // Cancels a request: it leaves the batch at the next step and its blocks are freed.
  void Cancel(uint64_t id);

  // Runs one step (admission, model, sampling). Returns false when there was nothing to do.
  // Only one thread may step: either the caller (tests, tools) or the loop of Start().
  bool Step();

  // Runs steps on a background thread until Stop() (or destruction).
  void Start();
  void Stop();

  // Runs `listener` on the engine thread after every step, once the step's events have all
  // been delivered, for as long as it lives: a service that gathers a step's events into one
  // message sends it there. Also after the events of the destructor. Thread-safe.
  void AddStepListener(std::weak_ptr<const std::function<void()>> listener);

  // Generates one token of a one-token prompt: proves the model runs (readiness).
  absl::Status WarmUp();

  // As of the last step, plus the requests submitted since (counted as waiting).
  EngineLoad load() const;
  const ModelConfig& config() const { return config_; }
  // The model (read-only: its parameters, for benchmarks and memory reports).
  const CausalLM& model() const { return *model_; }
  const std::vector<int64_t>& eos_token_ids() const { return eos_ids_; }
  int32_t max_model_len() const { return options_.scheduler.max_model_len; }
  // Monotonic times of the start of the latest step and of the end of the last completed one
  // (for stall detection: a step in progress for too long).
  int64_t step_started_nanos() const { return step_started_nanos_.load(); }
  int64_t last_step_nanos() const { return last_step_nanos_.load(); }

 private:
  struct Request;
  Engine() = default;
  void Admit();
  void Finish(Request& r, FinishReason reason, absl::Status error = absl::OkStatus());
  void FailStep(const StepSchedule& plan, const absl::Status& error);
  // Refreshes load_ from the scheduler and calls options_.on_load.
  void PublishLoad();
  void NotifyStepListeners();
  void Loop();

  EngineOptions options_;
  ModelConfig config_;
  std::vector<int64_t> eos_ids_;
  std::unique_ptr<CausalLM> model_;
  std::unique_ptr<KVCache> kv_cache_;
  std::unique_ptr<BlockAllocator> allocator_;
  std::unique_ptr<Scheduler> scheduler_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::unique_ptr<Request>> inbox_;                    // Guarded by mu_.
  absl::flat_hash_map<uint64_t, std::shared_ptr<Sequence>> live_;  // Guarded by mu_.
  uint64_t next_id_ = 1;                                           // Guarded by mu_.
  uint64_t seed_state_ = 0;                                        // Guarded by mu_.
  bool stopping_ = false;                                          // Guarded by mu_.
  EngineLoad load_;                                                // Guarded by mu_.

  std::mutex listeners_mu_;
  std::vector<std::weak_ptr<const std::function<void()>>> listeners_;  // Guarded by it.

  // Owned by the stepping thread.
  absl::flat_hash_map<Sequence*, std::unique_ptr<Request>> requests_;
  std::vector<float> logits_row_;  // One sequence's logits, for its sampler to modify.
  std::thread loop_;
  std::atomic<int64_t> step_started_nanos_{0};
  std::atomic<int64_t> last_step_nanos_{0};
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_ENGINE_ENGINE_H_
