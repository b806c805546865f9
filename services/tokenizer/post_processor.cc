#include "services/tokenizer/post_processor.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"

namespace sllm::tokenizer {
namespace {

using Json = nlohmann::json;

// Wraps the sequence in fixed id lists: prefix + sequence + suffix.
class WrapProcessor : public PostProcessor {
 public:
  WrapProcessor(std::vector<uint32_t> prefix, std::vector<uint32_t> suffix)
      : prefix_(std::move(prefix)), suffix_(std::move(suffix)) {}
  void Process(std::vector<uint32_t>& ids, std::vector<Range>* offsets) const override {
    ids.insert(ids.begin(), prefix_.begin(), prefix_.end());
    ids.insert(ids.end(), suffix_.begin(), suffix_.end());
    if (offsets != nullptr) {
      offsets->insert(offsets->begin(), prefix_.size(), Range{0, 0});
      offsets->insert(offsets->end(), suffix_.size(), Range{0, 0});
    }
  }

 private:
  std::vector<uint32_t> prefix_, suffix_;
};

class NoopProcessor : public PostProcessor {
 public:
  void Process(std::vector<uint32_t>&, std::vector<Range>*) const override {}
};

class SequenceProcessor : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> items)
      : items_(std::move(items)) {}
  void Process(std::vector<uint32_t>& ids, std::vector<Range>* offsets) const override {
    for (const auto& p : items_) p->Process(ids, offsets);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> items_;
};

absl::StatusOr<std::unique_ptr<PostProcessor>> Template(const Json& j) {
  if (!j.contains("single") || !j["single"].is_array()) {
    return absl::InvalidArgumentError("TemplateProcessing without a 'single' template");
  }
  const Json specials = j.contains("special_tokens") ? j["special_tokens"] : Json::object();
  std::vector<uint32_t> prefix, suffix;
  bool seen_sequence = false;
  for (const auto& item : j["single"]) {
    if (item.contains("Sequence")) {
      const std::string id = item["Sequence"].value("id", "A");
      if (id != "A") {
        return absl::InvalidArgumentError("single template may only use sequence A, got " + id);
      }
      if (seen_sequence) return absl::InvalidArgumentError("single template repeats sequence A");
      seen_sequence = true;
    } else if (item.contains("SpecialToken")) {
      const std::string name = item["SpecialToken"].value("id", "");
      if (!specials.contains(name) || !specials[name].contains("ids") ||
          !specials[name]["ids"].is_array()) {
        return absl::InvalidArgumentError(
            absl::StrCat("template special token '", name, "' is not in special_tokens"));
      }
      for (const auto& id : specials[name]["ids"]) {
        (seen_sequence ? suffix : prefix).push_back(id.get<uint32_t>());
      }
    } else {
      return absl::InvalidArgumentError("unknown template item: " + item.dump());
    }
  }
  return std::make_unique<WrapProcessor>(std::move(prefix), std::move(suffix));
}

// RobertaProcessing / BertProcessing: {"cls": ["<s>", 0], "sep": ["</s>", 2]}.
absl::StatusOr<std::unique_ptr<PostProcessor>> ClsSep(const Json& j) {
  auto id_of = [&](const char* key) -> absl::StatusOr<uint32_t> {
    if (!j.contains(key) || !j[key].is_array() || j[key].size() != 2 ||
        !j[key][1].is_number_integer()) {
      return absl::InvalidArgumentError(absl::StrCat("post_processor needs '", key, "'"));
    }
    return j[key][1].get<uint32_t>();
  };
  ASSIGN_OR_RETURN(uint32_t cls, id_of("cls"));
  ASSIGN_OR_RETURN(uint32_t sep, id_of("sep"));
  return std::make_unique<WrapProcessor>(std::vector<uint32_t>{cls}, std::vector<uint32_t>{sep});
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostProcessor>> PostProcessorFromJson(const Json& j) {
  if (j.is_null()) return std::unique_ptr<PostProcessor>();
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("post_processor without a type: ", j.dump()));
  }
  const std::string type = j["type"].get<std::string>();
  if (type == "TemplateProcessing") return Template(j);
  if (type == "ByteLevel") return std::make_unique<NoopProcessor>();
  if (type == "RobertaProcessing" || type == "BertProcessing") return ClsSep(j);
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PostProcessor>> items;
    if (j.contains("processors") && j["processors"].is_array()) {
      for (const auto& item : j["processors"]) {
        ASSIGN_OR_RETURN(auto p, PostProcessorFromJson(item));
        if (p) items.push_back(std::move(p));
      }
    }
    return std::make_unique<SequenceProcessor>(std::move(items));
  }
  return absl::UnimplementedError(absl::StrCat("unsupported post_processor type '", type, "'"));
}

}  // namespace sllm::tokenizer
