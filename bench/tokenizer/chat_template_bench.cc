// sllm-chat-template-bench: time to render a chat template (parse once, render many times).
//   sllm-chat-template-bench --template tests/data/chat_templates/meta-llama-Llama-3.2-3B-Instruct.jinja
//       [--conversation FILE.json] [--iterations N] [--repeat R]
// Without --conversation it renders a 4-message conversation (system, user, assistant, user).
// Prints one JSON object: parse_us; prompt_us (building the variables from the conversation
// JSON, then rendering: what a request costs) and render_us (rendering a built context), each
// the best of R passes of N renders, per render; prompt_bytes.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "gflags/gflags.h"
#include "nlohmann/json.hpp"
#include "services/tokenizer/jinja/chat_prompt.h"
#include "services/tokenizer/jinja/template.h"

DEFINE_string(template, "", "Jinja chat template file");
DEFINE_string(conversation, "", "JSON file: {\"messages\": [...], ...} (default: 4 messages)");
DEFINE_int32(iterations, 20000, "Renders per timed pass");
DEFINE_int32(repeat, 5, "Timed passes (the best is reported)");

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char kDefaultConversation[] = R"({"messages": [
  {"role": "system", "content": "You are a helpful AI assistant. 당신은 유능한 AI 어시스턴트 입니다."},
  {"role": "user", "content": "What is the capital of France?"},
  {"role": "assistant", "content": "The capital of France is Paris."},
  {"role": "user", "content": "And what is the capital of Korea?"}]})";

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  using Clock = std::chrono::steady_clock;
  namespace jinja = sllm::tokenizer::jinja;
  if (FLAGS_template.empty()) {
    std::cerr << "--template FILE is required\n";
    return 2;
  }
  const std::string source = ReadFile(FLAGS_template);
  const auto t0 = Clock::now();
  auto tmpl = jinja::ChatTemplate::Parse(source);
  const double parse_us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  if (!tmpl.ok()) {
    std::cerr << tmpl.status() << "\n";
    return 1;
  }
  const auto conversation = nlohmann::ordered_json::parse(
      FLAGS_conversation.empty() ? std::string(kDefaultConversation) : ReadFile(FLAGS_conversation));
  jinja::SpecialTokens special;
  special.named = {{"bos_token", "<|begin_of_text|>"}, {"eos_token", "<|end_of_text|>"}};
  jinja::ChatPromptOptions options;
  options.render.fixed_date = jinja::Date{2024, 7, 26};
  // What a service pays per request: building the context from the conversation, then rendering.
  auto render = [&]() {
    return jinja::RenderChatPrompt(**tmpl, special, conversation, nlohmann::ordered_json(), options);
  };
  auto first = render();
  if (!first.ok()) {
    std::cerr << first.status() << "\n";
    return 1;
  }
  // The template alone, with the context already built.
  const auto context = jinja::BuildChatContext(special, conversation, nlohmann::ordered_json(),
                                               options.add_generation_prompt);
  auto render_only = [&]() { return (*tmpl)->Render(*context, options.render); };
  size_t sink = 0;
  auto best_of = [&](auto&& fn) {
    double best_us = 1e30;
    for (int r = 0; r < FLAGS_repeat; ++r) {
      const auto start = Clock::now();
      for (int i = 0; i < FLAGS_iterations; ++i) sink += fn()->size();
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
      best_us = std::min(best_us, us / FLAGS_iterations);
    }
    return best_us;
  };
  const double prompt_us = best_of(render);
  const double render_us = best_of(render_only);
  nlohmann::json out = {{"template", FLAGS_template},
                        {"parse_us", parse_us},
                        {"prompt_us", prompt_us},
                        {"render_us", render_us},
                        {"prompt_bytes", first->size()},
                        {"iterations", FLAGS_iterations},
                        {"checksum", sink % 1000}};
  std::cout << out.dump() << "\n";
  return 0;
}
