// Percent-decoding of a URL path segment (RFC 3986 2.1): "org%2Fname" is "org/name". The
// OpenAI SDKs encode path parameters this way (client.models.retrieve("org/name")).
#ifndef SLLM_GATEWAY_HTTP_PERCENT_DECODE_H_
#define SLLM_GATEWAY_HTTP_PERCENT_DECODE_H_

#include <string>
#include <string_view>

namespace sllm::http {

// Replaces every "%XY" (two hex digits) by its byte; a '%' not followed by two hex digits stays
// as it is. '+' stays '+' (it means a space only in query strings).
std::string PercentDecode(std::string_view segment);

}  // namespace sllm::http

#endif  // SLLM_GATEWAY_HTTP_PERCENT_DECODE_H_
