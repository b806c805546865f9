// Errors about one request field. The status message already names the field, the limit and
// the value; the field's name also rides along as a payload, so a front door can report it on
// its own (the OpenAI error's `param`) without parsing the message. No gRPC, no libtorch.
#ifndef SLLM_SERVICES_COMMON_FIELD_ERROR_H_
#define SLLM_SERVICES_COMMON_FIELD_ERROR_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace sllm {

// INVALID_ARGUMENT with `message`, about `field` (e.g. "temperature", "messages[0].role").
absl::Status FieldError(std::string_view field, std::string_view message);

// `status` (returned as is when OK or already about a field) marked as about `field`.
absl::Status WithField(absl::Status status, std::string_view field);

// The field a status is about, or "" when it names none.
std::string ErrorField(const absl::Status& status);

}  // namespace sllm

#endif  // SLLM_SERVICES_COMMON_FIELD_ERROR_H_
