#include "gateway/core/pipeline.h"

#include <optional>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gateway/core/relay.h"
#include "gateway/streaming/stop_matcher.h"
#include "gateway/validation/error_mapping.h"
#include "services/common/grpc_status.h"
#include "services/common/status_macros.h"

namespace sllm::gateway {
namespace {

// The most worker messages one relayed chunk merges (see Relay).
constexpr size_t kMaxRelayBatch = 64;

// Identifies the leading prompt blocks for routing affinity.
uint64_t PrefixHash(const std::vector<uint32_t>& ids) {
  const size_t n = std::min<size_t>(ids.size(), 64);
  return absl::HashOf(absl::MakeConstSpan(ids.data(), n));
}

}  // namespace

// One request. Its front half (validation, Encode, the first shard's worker call) runs on the
// caller's thread and gRPC's callbacks; its back half (waiting for each relay's end, retries,
// the result) on a thread of waiters_, which it takes before Encode.
class Pipeline::Generation : public std::enable_shared_from_this<Generation> {
 public:
  Generation(Pipeline& pipeline, const PipelineRequest& request, CallControl& call,
             ChunkSink sink, Done done)
      : p_(pipeline), r_(request), call_(call), sink_(std::move(sink)), done_(std::move(done)) {}

  void Start() {
    if (absl::Status st = Validate(); !st.ok()) {
      Finish(st);
      return;
    }
    std::shared_ptr<Generation> self = shared_from_this();
    if (const absl::Status st = p_.waiters_.Run([self] { self->Back(); }); !st.ok()) {
      // Out of threads (ulimit -u, memory): refuse this request, keep serving the others.
      Finish(OverloadedError(absl::StrCat("the gateway ", st.message()),
                             /*retry_after_seconds=*/1));
      return;
    }
    if (r_.kind == PipelineRequest::Kind::kIds) {
      FrontDone(Launch());
      return;
    }
    p_.tokenizer_->async()->Encode(call_.NewContext(), &encode_, &encoded_,
                                   [self](grpc::Status st) { self->OnEncoded(st); });
  }

 private:
  // One shard's try: its worker call, relayed.
  struct Attempt {
    Attempt(Assignment a, std::shared_ptr<v1::WorkerService::Stub> s,
            std::shared_ptr<WorkerMux> m, const v1::GenerationParams& params)
        : assignment(std::move(a)),
          stub(std::move(s)),
          mux(std::move(m)),
          matcher({params.stop().begin(), params.stop().end()},
                  params.include_stop_str_in_output()) {}

    const Assignment assignment;
    const std::shared_ptr<v1::WorkerService::Stub> stub;  // Kept for the call's life.
    const std::shared_ptr<WorkerMux> mux;  // Null: a Generate call of its own.
    StopMatcher matcher;
    // Written by the relay's handler (one call at a time, on gRPC threads), read after Wait.
    bool produced = false, finished = false, client_gone = false;
    // Last: its handler uses the members above.
    std::unique_ptr<Relay> relay;
  };

  // Checks what can be checked before any call; prepares the Encode request.
  absl::Status Validate() {
    const std::vector<ModelInfo> models = p_.shards_.Models();
    ASSIGN_OR_RETURN(const ModelInfo* model, FindModel(r_.model, models));
    model_ = *model;
    ASSIGN_OR_RETURN(sampling_, ToSamplingParams(r_.params));
    RETURN_IF_ERROR(ValidateStops(r_.params, model_, p_.limits_));
    switch (r_.kind) {
      case PipelineRequest::Kind::kIds:
        RETURN_IF_ERROR(ValidatePromptIds(r_.ids, model_));
        ids_ = r_.ids;
        break;
      case PipelineRequest::Kind::kText:
        RETURN_IF_ERROR(ValidatePromptText(r_.text, "prompt", p_.limits_));
        encode_.set_text(r_.text);
        break;
      case PipelineRequest::Kind::kChat:
        RETURN_IF_ERROR(ValidateMessages(r_.chat.messages(), p_.limits_));
        *encode_.mutable_chat() = r_.chat;
        break;
    }
    encode_.set_model(r_.model);
    return absl::OkStatus();
  }

  // On a gRPC thread.
  void OnEncoded(const grpc::Status& st) {
    if (!st.ok()) {
      // The tokenizer service being down is UNAVAILABLE; its own errors keep their codes.
      FrontDone(FromGrpcStatus(st));
      return;
    }
    ids_.assign(encoded_.ids().begin(), encoded_.ids().end());
    prompt_text_ = r_.kind == PipelineRequest::Kind::kText ? r_.text : encoded_.prompt();
    if (ids_.empty()) {
      FrontDone(absl::InvalidArgumentError("prompt must not be empty"));
      return;
    }
    FrontDone(Launch());
  }

  // The prompt's ids are known: builds the worker request and starts the first attempt.
  absl::Status Launch() {
    std::optional<uint32_t> requested;
    if (r_.params.has_max_tokens()) requested = r_.params.max_tokens();
    ASSIGN_OR_RETURN(const uint32_t max_new,
                     ResolveMaxTokens(requested, ids_.size(), model_, p_.limits_));
    wreq_.set_request_id(r_.request_id);
    wreq_.set_model(r_.model);
    wreq_.mutable_prompt_ids()->Add(ids_.begin(), ids_.end());
    v1::SamplingParams* s = wreq_.mutable_sampling();
    s->set_temperature(sampling_.temperature);
    s->set_top_p(sampling_.top_p);
    s->set_top_k(sampling_.top_k);
    s->set_min_p(sampling_.min_p);
    s->set_repetition_penalty(sampling_.repetition_penalty);
    s->set_presence_penalty(sampling_.presence_penalty);
    s->set_frequency_penalty(sampling_.frequency_penalty);
    if (sampling_.seed) s->set_seed(*sampling_.seed);
    v1::StoppingCriteria* stop = wreq_.mutable_stopping();
    stop->set_max_new_tokens(max_new);
    stop->set_min_new_tokens(r_.params.min_tokens());
    stop->set_ignore_eos(r_.params.ignore_eos());
    stop->mutable_stop_token_ids()->CopyFrom(r_.params.stop_token_ids());
    if (r_.params.logprobs()) {
      wreq_.mutable_logprobs()->set_enabled(true);
      wreq_.mutable_logprobs()->set_top_logprobs(r_.params.top_logprobs());
    }
    charge_ = static_cast<int64_t>(ids_.size()) + max_new;
    return StartAttempt();
  }

  // Picks a shard not tried yet and starts relaying its worker call (attempt_), or says why
  // no shard can take the request.
  absl::Status StartAttempt() {
    while (true) {
      RETURN_IF_ERROR(call_.Interruption());
      auto picked = p_.shards_.router().Pick(r_.model, PrefixHash(ids_), charge_, tried_);
      if (!picked.ok()) {
        if (!last_refusal_.ok() && absl::IsUnavailable(picked.status())) {
          return OverloadedError(absl::StrCat("every shard serving '", r_.model,
                                              "' is at capacity (", last_refusal_.message(), ")"),
                                 /*retry_after_seconds=*/1);
        }
        return picked.status();
      }
      const std::string shard = picked->shard;
      if (p_.metrics_ != nullptr) p_.metrics_->Routed(shard, r_.model);
      std::shared_ptr<v1::WorkerService::Stub> stub = p_.shards_.stub(shard);
      if (stub == nullptr) {  // Dropped from DNS since the pick.
        p_.shards_.router().Release(*picked);
        tried_.push_back(shard);
        continue;
      }
      attempt_ = std::make_unique<Attempt>(*std::move(picked), std::move(stub),
                                           p_.shards_.mux(shard), r_.params);
      // Detokenize through the tokenizer service, one step per batch of worker messages.
      v1::DecodeStreamStart start;
      start.set_model(r_.model);
      start.set_skip_special_tokens(
          r_.params.has_skip_special_tokens() ? r_.params.skip_special_tokens() : true);
      // Stop strings are matched on a batch's text, so a request with any takes its tokens
      // one message at a time: the chunk that ends it then holds the tokens up to the match.
      const size_t max_batch = r_.params.stop().empty() ? kMaxRelayBatch : 1;
      Attempt* a = attempt_.get();
      // A sequence on the shard's GenerateStreams call when it serves them, else a call.
      Relay::OpenCall open =
          a->mux != nullptr
              ? Relay::OpenCall([this, a](std::function<void()> on_arrival) {
                  return a->mux->Start(wreq_, call_.deadline(), std::move(on_arrival));
                })
              : Relay::GenerateCall(*a->stub, call_.NewContext(), wreq_);
      a->relay = std::make_unique<Relay>(
          open, p_.decoder_, std::move(start), max_batch,
          [this, a](const v1::WorkerGenerateResponse& msg, const std::string& delta) {
            return OnBatch(*a, msg, delta);
          });
      // The client going away or the deadline passing ends the relay even when the worker
      // call is already over and only text is still on its way.
      call_.SetInterrupt([a] { a->relay->Interrupt(); });
      return absl::OkStatus();
    }
  }

  // The relay's handler: one batch of worker messages and its text.
  bool OnBatch(Attempt& a, const v1::WorkerGenerateResponse& msg, const std::string& delta) {
    v1::GenerateStreamResponse chunk;
    chunk.set_request_id(r_.request_id);
    chunk.mutable_token_ids()->CopyFrom(msg.token_ids());
    if (!a.produced && r_.params.echo()) {
      if (prompt_text_) chunk.set_prompt_text(*prompt_text_);
      chunk.mutable_prompt_ids()->Add(ids_.begin(), ids_.end());
    }
    if (r_.params.logprobs()) {
      chunk.mutable_logprobs()->mutable_tokens()->CopyFrom(msg.logprobs());
      chunk.mutable_logprobs()->mutable_top()->CopyFrom(msg.top_logprobs());
    }
    std::string text = a.matcher.Feed(delta);
    if (a.matcher.matched()) {
      // Stop generating (the relay cancels the worker): the client has its answer.
      chunk.set_finish_reason(v1::FINISH_REASON_STOP);
      chunk.set_stop_sequence(a.matcher.matched_stop());
      *chunk.mutable_usage() = msg.usage();
      a.finished = true;
    } else if (msg.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) {
      text += a.matcher.Flush();
      chunk.set_finish_reason(msg.finish_reason());
      if (msg.has_stop_token_id()) chunk.set_stop_token_id(msg.stop_token_id());
      if (!msg.error_message().empty()) chunk.set_error_message(msg.error_message());
      *chunk.mutable_usage() = msg.usage();
      a.finished = true;
    }
    chunk.set_text(std::move(text));
    a.produced = true;
    if (!sink_(chunk)) {
      a.client_gone = true;
      return false;
    }
    return !a.finished;
  }

  // The front half is over: `st` says whether a relay runs.
  void FrontDone(absl::Status st) {
    front_status_ = std::move(st);
    front_done_.Notify();
  }

  // On a thread of waiters_.
  void Back() {
    front_done_.WaitForNotification();
    Finish(front_status_.ok() ? Relayed() : front_status_);
  }

  // Waits for each attempt's end; retries on another shard while no token went out.
  absl::Status Relayed() {
    while (true) {
      Attempt& a = *attempt_;
      const Relay::Outcome outcome = a.relay->Wait(call_.deadline());
      call_.SetInterrupt(nullptr);
      const std::string& shard = a.assignment.shard;
      p_.shards_.router().Release(a.assignment);
      if (!outcome.decode.ok() && !a.finished && !a.client_gone) {
        RETURN_IF_ERROR(call_.Interruption());
        return absl::UnavailableError(
            absl::StrCat("detokenizing failed: ", outcome.decode.message()));
      }
      if (a.finished || a.client_gone) return absl::OkStatus();
      if (call_.cancelled()) return call_.Interruption();
      const grpc::Status& st = outcome.worker;
      if (!st.ok() && p_.metrics_ != nullptr) {
        p_.metrics_->ShardFailed(shard, std::string(GrpcCodeName(st.error_code())));
      }
      if (!st.ok() && !a.produced &&
          (st.error_code() == grpc::StatusCode::UNAVAILABLE ||
           st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)) {
        tried_.push_back(shard);  // Nothing streamed yet: try another shard.
        if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
          last_refusal_ = FromGrpcStatus(st);
        }
        attempt_.reset();
        RETURN_IF_ERROR(StartAttempt());
        continue;
      }
      // The relay also stops at the deadline when the worker call is already over.
      const bool timed_out = st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
                             absl::Now() >= call_.deadline();
      if (!st.ok() && !a.produced) return FromGrpcStatus(st);
      if (timed_out && !a.produced) {
        return absl::DeadlineExceededError("the request's deadline passed");
      }
      // Tokens already reached the client: the request cannot be retried elsewhere.
      const absl::Status failure =
          timed_out ? absl::DeadlineExceededError("the request's deadline passed mid-stream")
                    : absl::UnavailableError(absl::StrCat(
                          "worker shard ", shard, " failed mid-stream: ", st.error_message()));
      v1::GenerateStreamResponse chunk;
      chunk.set_request_id(r_.request_id);
      chunk.set_finish_reason(v1::FINISH_REASON_ERROR);
      chunk.set_error_message(std::string(failure.message()));
      sink_(chunk);
      return failure;
    }
  }

  // Ends the request: the caller's objects are not used from `done_` on.
  void Finish(const absl::Status& st) {
    attempt_.reset();  // Its relay waits for the worker call's end.
    sink_ = nullptr;
    Done done = std::move(done_);
    done(st);
  }

  Pipeline& p_;
  const PipelineRequest& r_;
  CallControl& call_;
  ChunkSink sink_;  // Until Finish.
  Done done_;

  ModelInfo model_;
  worker::SamplingParams sampling_;
  v1::EncodeRequest encode_;
  v1::EncodeResponse encoded_;  // Written by Encode's callback.
  std::vector<uint32_t> ids_;
  std::optional<std::string> prompt_text_;
  v1::WorkerGenerateRequest wreq_;
  int64_t charge_ = 0;
  std::vector<std::string> tried_;
  absl::Status last_refusal_;  // The last shard's RESOURCE_EXHAUSTED, when all were full.
  std::unique_ptr<Attempt> attempt_;
  // The front half's end: front_status_ is written before the notification.
  absl::Notification front_done_;
  absl::Status front_status_;
};

Pipeline::Pipeline(std::shared_ptr<grpc::Channel> tokenizer, ShardPool& shards,
                   GatewayLimits limits, GatewayMetrics* metrics)
    : tokenizer_(v1::TokenizerService::NewStub(std::move(tokenizer))),
      decoder_(*tokenizer_),
      shards_(shards),
      limits_(limits),
      metrics_(metrics) {}

absl::StatusOr<v1::EncodeResponse> Pipeline::Encode(const v1::EncodeRequest& request,
                                                    CallControl& call) {
  v1::EncodeResponse response;
  const grpc::Status st = tokenizer_->Encode(call.NewContext(), request, &response);
  if (!st.ok()) {
    // The tokenizer service being down is UNAVAILABLE; its own errors keep their codes.
    return FromGrpcStatus(st);
  }
  return response;
}

void Pipeline::Start(const PipelineRequest& request, CallControl& call, ChunkSink sink,
                     Done done) {
  std::make_shared<Generation>(*this, request, call, std::move(sink), std::move(done))->Start();
}

absl::Status Pipeline::Run(const PipelineRequest& request, CallControl& call,
                           const ChunkSink& sink) {
  absl::Status result;
  absl::Notification over;
  Start(request, call, sink, [&](absl::Status st) {
    result = std::move(st);
    over.Notify();
  });
  over.WaitForNotification();
  return result;
}

}  // namespace sllm::gateway
