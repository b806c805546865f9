#include "services/common/field_error.h"

#include "absl/strings/cord.h"

namespace sllm {
namespace {

constexpr char kFieldUrl[] = "type.sllm.dev/field";

}  // namespace

absl::Status FieldError(std::string_view field, std::string_view message) {
  return WithField(absl::InvalidArgumentError(std::string(message)), field);
}

absl::Status WithField(absl::Status status, std::string_view field) {
  if (status.ok() || status.GetPayload(kFieldUrl).has_value()) return status;
  status.SetPayload(kFieldUrl, absl::Cord(std::string(field)));
  return status;
}

std::string ErrorField(const absl::Status& status) {
  auto v = status.GetPayload(kFieldUrl);
  return v ? std::string(*v) : std::string();
}

}  // namespace sllm
