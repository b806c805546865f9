// libFuzzer target: ParseOpenAiRequest on arbitrary bodies for the three OpenAI APIs. Byte 0
// picks the API (modulo 3); the rest is the request body.
// Checked, besides no crash / UB / leak: every failure is INVALID_ARGUMENT (as
// openai_request.h promises, so the HTTP front answers 400), and a parsed request names a
// model.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "gateway/http_front/openai_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 64 * 1024) return 0;
  using sllm::gateway::OpenAiApi;
  static constexpr OpenAiApi kApis[] = {OpenAiApi::kChatCompletions, OpenAiApi::kCompletions,
                                        OpenAiApi::kResponses};
  const OpenAiApi api = kApis[data[0] % 3];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto r = sllm::gateway::ParseOpenAiRequest(api, body);
  if (!r.ok()) {
    if (r.status().code() != absl::StatusCode::kInvalidArgument) {
      std::fprintf(stderr, "not INVALID_ARGUMENT: %s\n", r.status().ToString().c_str());
      std::abort();
    }
    (void)sllm::ErrorField(r.status());
    return 0;
  }
  if (r->api != api || r->pipeline.model.empty()) {
    std::fprintf(stderr, "parsed request has the wrong api or no model\n");
    std::abort();
  }
  return 0;
}
