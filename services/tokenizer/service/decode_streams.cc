#include "services/tokenizer/service/decode_streams.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"

namespace sllm::tokenizer {
namespace {

void Fail(v1::DecodeStreamsResponse::Result* result, const absl::Status& status,
          absl::string_view field) {
  result->set_error_code(static_cast<int32_t>(ToGrpcCode(status.code())));
  result->set_error_message(absl::StrCat(field, status.message()));
}

}  // namespace

v1::DecodeStreamsResponse DecodeStreamsSession::Handle(
    const v1::DecodeStreamsRequest& request,
    const std::function<void(const std::string& model, size_t ids)>& decoded) {
  v1::DecodeStreamsResponse response;
  for (int i = 0; i < request.steps_size(); ++i) {
    const v1::DecodeStreamsRequest::Step& step = request.steps(i);
    if (step.cancel()) {
      open_.erase(step.sequence());
      continue;
    }
    v1::DecodeStreamsResponse::Result* result = response.add_results();
    result->set_sequence(step.sequence());
    const std::string step_name = absl::StrCat("steps[", i, "]");
    auto it = open_.find(step.sequence());
    if (it == open_.end()) {
      if (!step.request().has_start()) {
        Fail(result,
             absl::InvalidArgumentError(absl::StrCat(
                 "sequence ", step.sequence(), " is not open: its first step must set start")),
             absl::StrCat(step_name, ".request.start: "));
        continue;
      }
      if (open_.size() >= kMaxOpenSequences) {
        Fail(result,
             absl::ResourceExhaustedError(absl::StrCat(
                 "this stream already has ", open_.size(), " open sequences, the most allowed is ",
                 kMaxOpenSequences)),
             absl::StrCat(step_name, ".sequence: "));
        continue;
      }
      it = open_.emplace(step.sequence(), std::make_unique<DecodeStreamSession>(core_)).first;
    }
    absl::StatusOr<v1::DecodeStreamResponse> text = it->second->Handle(step.request());
    if (!text.ok()) {
      Fail(result, text.status(), absl::StrCat(step_name, ": "));
      open_.erase(it);
      continue;
    }
    if (decoded) decoded(it->second->model(), step.request().ids_size());
    if (text->finished()) open_.erase(it);
    *result->mutable_response() = *std::move(text);
  }
  return response;
}

}  // namespace sllm::tokenizer
