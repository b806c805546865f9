// sllm-tokenize --model DIR [--no-special] [--decode [--skip-special]] [--stream]
// sllm-tokenize --model DIR --chat [--no-generation-prompt|--continue-final] [--template FILE]
//               [--date YYYY-MM-DD]
// Reads JSON lines on stdin, writes one JSON line per input line (see tokenize_cli.h).
#include <iostream>

#include "gflags/gflags.h"
#include "tools/tokenize/tokenize_cli.h"

DEFINE_string(model, "", "Model folder with tokenizer.json (and tokenizer_config.json)");
DEFINE_bool(no_special, false, "Encode without special tokens (add_special_tokens=false)");
DEFINE_bool(decode, false, "Input lines are id arrays; output the decoded text");
DEFINE_bool(stream, false, "Input lines are id arrays; output the incremental text deltas");
DEFINE_bool(skip_special, false, "With --decode/--stream: drop special tokens");
DEFINE_bool(chat, false,
            "Input lines are {\"messages\": [...], ...extra template variables}; output the prompt "
            "the chat template renders, as a JSON string");
DEFINE_bool(no_generation_prompt, false, "With --chat: add_generation_prompt=false");
DEFINE_bool(continue_final, false,
            "With --chat: continue_final_message (end the prompt inside the last message)");
DEFINE_string(template, "", "With --chat: render this Jinja file instead of the model's template");
DEFINE_string(date, "", "With --chat: the date strftime_now() formats, YYYY-MM-DD (default: today)");

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "sllm-tokenize --model DIR [--no-special] [--decode|--stream [--skip-special]] < lines\n"
      "sllm-tokenize --model DIR --chat [--no-generation-prompt|--continue-final] "
      "[--template FILE] [--date YYYY-MM-DD] < lines");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_model.empty()) {
    std::cerr << "sllm-tokenize: --model DIR is required\n";
    return 2;
  }
  if (FLAGS_decode + FLAGS_stream + FLAGS_chat > 1) {
    std::cerr << "sllm-tokenize: --decode, --stream and --chat are exclusive\n";
    return 2;
  }
  // A folder or a tokenizer.json path.
  std::string dir = FLAGS_model;
  const std::string suffix = "/tokenizer.json";
  if (dir.size() > suffix.size() && dir.compare(dir.size() - suffix.size(), suffix.size(), suffix) == 0) {
    dir.resize(dir.size() - suffix.size());
  }
  auto model = sllm::tokenizer::ModelTokenizer::Load("model", dir);
  if (!model.ok()) {
    std::cerr << "sllm-tokenize: " << model.status().message() << "\n";
    return 1;
  }
  sllm::tools::TokenizeCliOptions options;
  options.mode = FLAGS_decode   ? sllm::tools::TokenizeMode::kDecode
                 : FLAGS_stream ? sllm::tools::TokenizeMode::kStream
                 : FLAGS_chat   ? sllm::tools::TokenizeMode::kChat
                                : sllm::tools::TokenizeMode::kEncode;
  options.add_special_tokens = !FLAGS_no_special;
  options.skip_special_tokens = FLAGS_skip_special;
  if (FLAGS_chat) {
    options.chat_template = sllm::tools::LoadChatTemplate(**model, FLAGS_template);
    if (!options.chat_template.ok() && !FLAGS_template.empty() &&
        options.chat_template.status().code() == absl::StatusCode::kNotFound) {
      std::cerr << "sllm-tokenize: " << options.chat_template.status().message() << "\n";
      return 1;
    }
    options.chat.add_generation_prompt = !FLAGS_no_generation_prompt && !FLAGS_continue_final;
    options.chat.continue_final_message = FLAGS_continue_final;
    if (!FLAGS_date.empty()) {
      auto date = sllm::tokenizer::jinja::ParseDate(FLAGS_date);
      if (!date.ok()) {
        std::cerr << "sllm-tokenize: --date: " << date.status().message() << "\n";
        return 2;
      }
      options.chat.render.fixed_date = *date;
    }
  }
  std::ios::sync_with_stdio(false);
  sllm::tools::RunTokenizeCli(**model, options, std::cin, std::cout);
  return 0;
}
