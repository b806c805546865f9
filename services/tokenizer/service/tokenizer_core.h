// The tokenizer service's logic without a network: loaded models by name and one function per
// RPC, absl::Status in and out. tokenizer_service.cc is the thin gRPC edge over it.
#ifndef SLLM_SERVICES_TOKENIZER_SERVICE_TOKENIZER_CORE_H_
#define SLLM_SERVICES_TOKENIZER_SERVICE_TOKENIZER_CORE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "services/tokenizer/incremental_detokenizer.h"
#include "services/tokenizer/jinja/template.h"
#include "services/tokenizer/model_tokenizer.h"
#include "sllm/v1/tokenizer.pb.h"

namespace sllm::tokenizer {

// A model to serve: its public name and its folder.
struct ModelSpec {
  std::string name;
  std::string dir;
  // A Jinja chat template file that replaces the folder's (for models without one).
  std::optional<std::string> chat_template;
};

// Parses "name=DIR,DIR2,..." (a bare DIR is named after its last path component, a hub id
// org/name[@rev] after org/name); an entry may end in ":template=FILE" to give the model a chat
// template file.
absl::StatusOr<std::vector<ModelSpec>> ParseModelSpecs(const std::string& flag);

class TokenizerCore {
 public:
  static absl::StatusOr<std::unique_ptr<TokenizerCore>> Load(const std::vector<ModelSpec>& specs);

  // The model called `name`; NOT_FOUND lists the served models.
  absl::StatusOr<const ModelTokenizer*> Find(const std::string& name) const;

  absl::StatusOr<v1::EncodeResponse> Encode(const v1::EncodeRequest& request) const;
  absl::StatusOr<v1::DecodeResponse> Decode(const v1::DecodeRequest& request) const;
  absl::StatusOr<v1::ApplyChatTemplateResponse> ApplyChatTemplate(
      const v1::ApplyChatTemplateRequest& request) const;
  absl::StatusOr<v1::GetTokenizerInfoResponse> GetInfo(
      const v1::GetTokenizerInfoRequest& request) const;
  v1::ListTokenizerModelsResponse ListModels() const;

 private:
  // Renders a conversation with the model's chat template (or `template_override`), as
  // transformers' apply_chat_template does. Template errors are FAILED_PRECONDITION.
  absl::StatusOr<std::string> RenderChat(const ModelTokenizer& model, const v1::ChatInput& chat,
                                         const std::optional<std::string>& template_override) const;

  std::map<std::string, std::unique_ptr<ModelTokenizer>> models_;
  // Each model's chat template, parsed at load (a parse error is kept and reported on use);
  // absent when the model has none.
  std::map<std::string, absl::StatusOr<std::shared_ptr<const jinja::ChatTemplate>>> templates_;
};

// One DecodeStream: the first request opens it (start), each request's ids yield a delta.
class DecodeStreamSession {
 public:
  explicit DecodeStreamSession(const TokenizerCore& core) : core_(core) {}
  // Handles one request message; errors end the stream.
  absl::StatusOr<v1::DecodeStreamResponse> Handle(const v1::DecodeStreamRequest& request);
  const std::string& model() const { return model_; }

 private:
  const TokenizerCore& core_;
  std::unique_ptr<IncrementalDetokenizer> detok_;
  std::string model_;
  uint32_t num_ids_ = 0;
  bool finished_ = false;
};

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_SERVICE_TOKENIZER_CORE_H_
