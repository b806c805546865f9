#include "services/worker/service/generation_recorder.h"

#include <string>

namespace sllm::worker {
namespace {

v1::FinishReason ToProto(FinishReason r) {
  switch (r) {
    case FinishReason::kEos: return v1::FINISH_REASON_EOS;
    case FinishReason::kLength: return v1::FINISH_REASON_LENGTH;
    case FinishReason::kStop: return v1::FINISH_REASON_STOP;
    case FinishReason::kCancelled: return v1::FINISH_REASON_CANCELLED;
    case FinishReason::kError: return v1::FINISH_REASON_ERROR;
    case FinishReason::kNone: break;
  }
  return v1::FINISH_REASON_UNSPECIFIED;
}

template <typename Duration>
double Seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

GenerationRecorder::GenerationRecorder(WorkerMetrics* metrics)
    : metrics_(metrics), start_(Clock::now()), last_(start_) {}

void GenerationRecorder::CountRejected(WorkerMetrics* metrics) {
  if (metrics == nullptr) return;
  metrics->requests.Add({{"model", metrics->model}, {"outcome", "rejected"}}).Increment();
}

GenerationRecorder::Result GenerationRecorder::Record(const TokenEvent& ev,
                                                      v1::WorkerGenerateResponse* msg) {
  msg->Clear();
  const auto now = Clock::now();
  if (ev.has_token) {
    msg->add_token_ids(ev.token);
    if (metrics_ != nullptr) {
      metrics_->generation_tokens.Increment();
      if (last_ == start_) {
        metrics_->ttft.Observe(Seconds(now - start_));
        metrics_->queue_time.Observe(ev.queue_nanos * 1e-9);
      } else {
        metrics_->itl.Observe(Seconds(now - last_));
      }
    }
    if (last_ == start_) {
      msg->mutable_timings()->set_time_to_first_token_us(
          std::chrono::duration_cast<std::chrono::microseconds>(now - start_).count());
      msg->mutable_timings()->set_queue_us(ev.queue_nanos / 1000);
    }
    last_ = now;
    if (!ev.top_logprobs.empty() || ev.logprob != 0.0f) {
      auto* lp = msg->add_logprobs();
      lp->set_token_id(ev.token);
      lp->set_logprob(ev.logprob);
      auto* top = msg->add_top_logprobs();
      for (const TokenLogprob& t : ev.top_logprobs) {
        auto* c = top->add_candidates();
        c->set_token_id(t.token);
        c->set_logprob(t.logprob);
      }
    }
  }
  if (!ev.finished) return Result::kMessage;
  if (!ev.error.ok() && !ev.has_token && last_ == start_) {
    CountRejected(metrics_);
    return Result::kRefused;
  }
  msg->set_finish_reason(ToProto(ev.finish_reason));
  if (!ev.error.ok()) msg->set_error_message(std::string(ev.error.message()));
  auto* usage = msg->mutable_usage();
  usage->set_prompt_tokens(ev.prompt_tokens);
  usage->set_cached_prompt_tokens(ev.cached_tokens);
  usage->set_completion_tokens(ev.completion_tokens);
  usage->set_total_tokens(ev.prompt_tokens + ev.completion_tokens);
  if (metrics_ != nullptr) {
    metrics_->e2e.Observe(Seconds(now - start_));
    metrics_->prompt_tokens.Increment(ev.prompt_tokens);
    metrics_->cached_tokens.Increment(ev.cached_tokens);
    metrics_->requests
        .Add({{"model", metrics_->model}, {"outcome", FinishReasonName(ev.finish_reason)}})
        .Increment();
  }
  return Result::kMessage;
}

}  // namespace sllm::worker
