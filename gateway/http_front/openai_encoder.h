// Pipeline chunks -> OpenAI wire objects for one request: the JSON body of a non-streamed reply,
// or the server-sent events of a streamed one (chat.completion.chunk / text_completion chunks
// ending in `data: [DONE]`, or the Responses API's typed events ending in response.completed).
#ifndef SLLM_GATEWAY_HTTP_FRONT_OPENAI_ENCODER_H_
#define SLLM_GATEWAY_HTTP_FRONT_OPENAI_ENCODER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "gateway/http_front/openai_request.h"
#include "sllm/v1/generation.pb.h"

namespace sllm::gateway {

// The OpenAI error body for `status` (must not be OK): {"error": {message, type, param, code}}.
// `code` replaces the table's OpenAI code when given (e.g. "unknown_route").
std::string OpenAiErrorBody(const absl::Status& status, const char* code = nullptr);

class OpenAiEncoder {
 public:
  // `id`: unique per request ("chatcmpl-…", "cmpl-…", "resp_…" is prefixed here).
  OpenAiEncoder(const OpenAiRequest& request, const std::string& id, int64_t created);

  // Non-streamed: Add() every chunk, then Body().
  void Add(const v1::GenerateStreamResponse& chunk);
  std::string Body() const;

  // Streamed: the events before the first chunk, for each chunk, and at the end.
  std::string StreamStart();
  std::string StreamChunk(const v1::GenerateStreamResponse& chunk);
  std::string StreamEnd();
  // An error after the stream started (an error event the openai client raises).
  std::string StreamError(const absl::Status& status);

 private:
  std::string Event(const std::string& type, const std::string& json);
  std::string FinishReason() const;
  // The whole reply object (what Body() serializes; response.completed carries it too).
  nlohmann::ordered_json Object() const;
  // Responses: the assistant message item.
  nlohmann::ordered_json MessageItem() const;

  const OpenAiApi api_;
  const std::string id_;
  const std::string item_id_;  // Responses: the message item.
  const std::string model_;
  const int64_t created_;
  const bool include_usage_;
  const bool echo_;
  const std::string instructions_;  // Responses: echoed back.
  std::string text_;
  std::string prompt_text_;
  v1::FinishReason finish_ = v1::FINISH_REASON_UNSPECIFIED;
  v1::Usage usage_;
  int64_t sequence_ = 0;  // Responses: sequence_number of the next event.
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_HTTP_FRONT_OPENAI_ENCODER_H_
