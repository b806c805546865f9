// sllm-tokenize --model DIR [--no-special] [--decode [--skip-special]] [--stream]
// Reads JSON lines on stdin, writes one JSON line per input line (see tokenize_cli.h).
#include <iostream>

#include "gflags/gflags.h"
#include "tools/tokenize/tokenize_cli.h"

DEFINE_string(model, "", "Model folder with tokenizer.json (and tokenizer_config.json)");
DEFINE_bool(no_special, false, "Encode without special tokens (add_special_tokens=false)");
DEFINE_bool(decode, false, "Input lines are id arrays; output the decoded text");
DEFINE_bool(stream, false, "Input lines are id arrays; output the incremental text deltas");
DEFINE_bool(skip_special, false, "With --decode/--stream: drop special tokens");

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "sllm-tokenize --model DIR [--no-special] [--decode|--stream [--skip-special]] < lines");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_model.empty()) {
    std::cerr << "sllm-tokenize: --model DIR is required\n";
    return 2;
  }
  if (FLAGS_decode && FLAGS_stream) {
    std::cerr << "sllm-tokenize: --decode and --stream are exclusive\n";
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
                                : sllm::tools::TokenizeMode::kEncode;
  options.add_special_tokens = !FLAGS_no_special;
  options.skip_special_tokens = FLAGS_skip_special;
  std::ios::sync_with_stdio(false);
  sllm::tools::RunTokenizeCli(**model, options, std::cin, std::cout);
  return 0;
}
