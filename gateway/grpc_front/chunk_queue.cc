#include "gateway/grpc_front/chunk_queue.h"

#include <utility>

namespace sllm::gateway {

void AppendChunk(const v1::GenerateStreamResponse& next, v1::GenerateStreamResponse* into) {
  if (!next.request_id().empty()) into->set_request_id(next.request_id());
  into->mutable_text()->append(next.text());
  into->mutable_token_ids()->MergeFrom(next.token_ids());
  if (next.has_logprobs()) into->mutable_logprobs()->MergeFrom(next.logprobs());
  if (next.has_prompt_text()) into->mutable_prompt_text()->append(next.prompt_text());
  into->mutable_prompt_ids()->MergeFrom(next.prompt_ids());
  if (next.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) {
    into->set_finish_reason(next.finish_reason());
  }
  if (next.has_stop_sequence()) into->set_stop_sequence(next.stop_sequence());
  if (next.has_stop_token_id()) into->set_stop_token_id(next.stop_token_id());
  if (next.has_usage()) *into->mutable_usage() = next.usage();
  if (!next.error_message().empty()) into->set_error_message(next.error_message());
}

bool ChunkQueue::Push(const v1::GenerateStreamResponse& chunk) {
  if (!writing_) {
    writing_ = chunk;
    return true;
  }
  if (!waiting_) {
    waiting_ = chunk;
  } else {
    AppendChunk(chunk, &*waiting_);
    ++merged_;
  }
  return false;
}

bool ChunkQueue::WriteDone() {
  writing_ = std::exchange(waiting_, std::nullopt);
  return writing_.has_value();
}

}  // namespace sllm::gateway
