#include "gateway/core/pipeline.h"

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
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

absl::Status Pipeline::Run(const PipelineRequest& r, CallControl& call, const ChunkSink& sink) {
  const std::vector<ModelInfo> models = shards_.Models();
  ASSIGN_OR_RETURN(const ModelInfo* model, FindModel(r.model, models));
  ASSIGN_OR_RETURN(worker::SamplingParams sampling, ToSamplingParams(r.params));
  RETURN_IF_ERROR(ValidateStops(r.params, *model, limits_));

  // Prompt ids.
  std::vector<uint32_t> ids;
  std::optional<std::string> prompt_text;
  if (r.kind == PipelineRequest::Kind::kIds) {
    RETURN_IF_ERROR(ValidatePromptIds(r.ids, *model));
    ids = r.ids;
  } else {
    v1::EncodeRequest enc;
    enc.set_model(r.model);
    if (r.kind == PipelineRequest::Kind::kText) {
      RETURN_IF_ERROR(ValidatePromptText(r.text, "prompt", limits_));
      enc.set_text(r.text);
    } else {
      RETURN_IF_ERROR(ValidateMessages(r.chat.messages(), limits_));
      *enc.mutable_chat() = r.chat;
    }
    ASSIGN_OR_RETURN(v1::EncodeResponse encoded, Encode(enc, call));
    ids.assign(encoded.ids().begin(), encoded.ids().end());
    prompt_text = r.kind == PipelineRequest::Kind::kText ? r.text : encoded.prompt();
    if (ids.empty()) return absl::InvalidArgumentError("prompt must not be empty");
  }
  std::optional<uint32_t> requested;
  if (r.params.has_max_tokens()) requested = r.params.max_tokens();
  ASSIGN_OR_RETURN(uint32_t max_new, ResolveMaxTokens(requested, ids.size(), *model, limits_));

  v1::WorkerGenerateRequest wreq;
  wreq.set_request_id(r.request_id);
  wreq.set_model(r.model);
  wreq.mutable_prompt_ids()->Add(ids.begin(), ids.end());
  v1::SamplingParams* s = wreq.mutable_sampling();
  s->set_temperature(sampling.temperature);
  s->set_top_p(sampling.top_p);
  s->set_top_k(sampling.top_k);
  s->set_min_p(sampling.min_p);
  s->set_repetition_penalty(sampling.repetition_penalty);
  s->set_presence_penalty(sampling.presence_penalty);
  s->set_frequency_penalty(sampling.frequency_penalty);
  if (sampling.seed) s->set_seed(*sampling.seed);
  v1::StoppingCriteria* stop = wreq.mutable_stopping();
  stop->set_max_new_tokens(max_new);
  stop->set_min_new_tokens(r.params.min_tokens());
  stop->set_ignore_eos(r.params.ignore_eos());
  stop->mutable_stop_token_ids()->CopyFrom(r.params.stop_token_ids());
  if (r.params.logprobs()) {
    wreq.mutable_logprobs()->set_enabled(true);
    wreq.mutable_logprobs()->set_top_logprobs(r.params.top_logprobs());
  }

  const int64_t charge = static_cast<int64_t>(ids.size()) + max_new;
  std::vector<std::string> tried;
  absl::Status last_refusal;  // The last shard's RESOURCE_EXHAUSTED, when all were full.
  while (true) {
    RETURN_IF_ERROR(call.Interruption());
    auto picked = shards_.router().Pick(r.model, PrefixHash(ids), charge, tried);
    if (!picked.ok()) {
      if (!last_refusal.ok() && absl::IsUnavailable(picked.status())) {
        return OverloadedError(absl::StrCat("every shard serving '", r.model,
                                            "' is at capacity (", last_refusal.message(), ")"),
                               /*retry_after_seconds=*/1);
      }
      return picked.status();
    }
    const Assignment assignment = *std::move(picked);
    const std::string& shard = assignment.shard;
    if (metrics_ != nullptr) metrics_->Routed(shard, r.model);
    std::shared_ptr<v1::WorkerService::Stub> stub = shards_.stub(shard);
    if (stub == nullptr) {  // Dropped from DNS since the pick.
      shards_.router().Release(assignment);
      tried.push_back(shard);
      continue;
    }
    grpc::ClientContext* wctx = call.NewContext();
    // Detokenize through the tokenizer service, one step per batch of worker messages.
    v1::DecodeStreamStart start;
    start.set_model(r.model);
    start.set_skip_special_tokens(
        r.params.has_skip_special_tokens() ? r.params.skip_special_tokens() : true);
    StopMatcher matcher({r.params.stop().begin(), r.params.stop().end()},
                        r.params.include_stop_str_in_output());
    // Stop strings are matched on a batch's text, so a request with any takes its tokens one
    // message at a time: the chunk that ends it then holds the tokens up to the match only.
    const size_t max_batch = r.params.stop().empty() ? kMaxRelayBatch : 1;
    // Written by the relay's handler (one call at a time, on gRPC threads), read after Wait.
    bool produced = false, finished = false, client_gone = false;
    Relay relay(*stub, wctx, wreq, decoder_, std::move(start), max_batch,
                [&](const v1::WorkerGenerateResponse& msg, const std::string& delta) {
      v1::GenerateStreamResponse chunk;
      chunk.set_request_id(r.request_id);
      chunk.mutable_token_ids()->CopyFrom(msg.token_ids());
      if (!produced && r.params.echo()) {
        if (prompt_text) chunk.set_prompt_text(*prompt_text);
        chunk.mutable_prompt_ids()->Add(ids.begin(), ids.end());
      }
      if (r.params.logprobs()) {
        chunk.mutable_logprobs()->mutable_tokens()->CopyFrom(msg.logprobs());
        chunk.mutable_logprobs()->mutable_top()->CopyFrom(msg.top_logprobs());
      }
      std::string text = matcher.Feed(delta);
      if (matcher.matched()) {
        // Stop generating (the relay cancels the worker): the client has its answer.
        chunk.set_finish_reason(v1::FINISH_REASON_STOP);
        chunk.set_stop_sequence(matcher.matched_stop());
        *chunk.mutable_usage() = msg.usage();
        finished = true;
      } else if (msg.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) {
        text += matcher.Flush();
        chunk.set_finish_reason(msg.finish_reason());
        if (msg.has_stop_token_id()) chunk.set_stop_token_id(msg.stop_token_id());
        if (!msg.error_message().empty()) chunk.set_error_message(msg.error_message());
        *chunk.mutable_usage() = msg.usage();
        finished = true;
      }
      chunk.set_text(std::move(text));
      produced = true;
      if (!sink(chunk)) {
        client_gone = true;
        return false;
      }
      return !finished;
    });
    // The client going away or the deadline passing ends the relay even when the worker call
    // is already over and only text is still on its way.
    call.SetInterrupt([&relay] { relay.Interrupt(); });
    const Relay::Outcome outcome = relay.Wait(call.deadline());
    call.SetInterrupt(nullptr);
    if (!outcome.decode.ok() && !finished && !client_gone) {
      shards_.router().Release(assignment);
      RETURN_IF_ERROR(call.Interruption());
      return absl::UnavailableError(
          absl::StrCat("detokenizing failed: ", outcome.decode.message()));
    }
    const grpc::Status& st = outcome.worker;
    shards_.router().Release(assignment);
    if (finished || client_gone) return absl::OkStatus();
    if (call.cancelled()) return call.Interruption();
    if (!st.ok() && metrics_ != nullptr) {
      metrics_->ShardFailed(shard, std::string(GrpcCodeName(st.error_code())));
    }
    if (!st.ok() && !produced &&
        (st.error_code() == grpc::StatusCode::UNAVAILABLE ||
         st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)) {
      tried.push_back(shard);  // Nothing streamed yet: try another shard.
      if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        last_refusal = FromGrpcStatus(st);
      }
      continue;
    }
    // The relay also stops at the deadline when the worker call is already over.
    const bool timed_out =
        st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED || absl::Now() >= call.deadline();
    if (!st.ok() && !produced) return FromGrpcStatus(st);
    if (timed_out && !produced) return absl::DeadlineExceededError("the request's deadline passed");
    // Tokens already reached the client: the request cannot be retried elsewhere.
    const absl::Status failure =
        timed_out
            ? absl::DeadlineExceededError("the request's deadline passed mid-stream")
            : absl::UnavailableError(absl::StrCat("worker shard ", shard,
                                                  " failed mid-stream: ", st.error_message()));
    v1::GenerateStreamResponse chunk;
    chunk.set_request_id(r.request_id);
    chunk.set_finish_reason(v1::FINISH_REASON_ERROR);
    chunk.set_error_message(std::string(failure.message()));
    sink(chunk);
    return failure;
  }
}

}  // namespace sllm::gateway
