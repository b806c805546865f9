// libFuzzer target: parse + render of arbitrary chat templates (the input is the template
// source) over a fixed conversation with tools, documents and special tokens. Finds crashes,
// memory errors, undefined behaviour, leaks and runaway renders; template errors are fine.
// Built by tests/fuzz/run_fuzz.sh (clang, -fsanitize=fuzzer,address,undefined).
#include <cstddef>
#include <cstdint>
#include <string>

#include "nlohmann/json.hpp"
#include "services/tokenizer/jinja/chat_prompt.h"
#include "services/tokenizer/jinja/template.h"

namespace {

namespace jinja = sllm::tokenizer::jinja;

const nlohmann::ordered_json& Conversation() {
  static const auto* conversation = new nlohmann::ordered_json(nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "You are helpful. 당신은 유능한 AI 어시스턴트 입니다."},
      {"role": "user", "content": "Weather in Seoul? {{ not jinja }} 😀"},
      {"role": "assistant", "content": "<think>\nneed a tool\n</think>\n\n", "tool_calls": [
        {"id": "a1b2c3d4e", "type": "function",
         "function": {"name": "get_weather", "arguments": {"city": "Seoul", "n": 1.5, "2": null}}}]},
      {"role": "tool", "tool_call_id": "a1b2c3d4e", "name": "get_weather", "content": "21C"},
      {"role": "user", "content": ["part", {"type": "text", "text": "Thanks"}]}],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "d",
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                              "required": ["city"]}}}],
    "documents": [{"title": "t", "text": "x"}],
    "enable_thinking": false})"));
  return *conversation;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  auto tmpl = jinja::ChatTemplate::Parse(std::string(reinterpret_cast<const char*>(data), size));
  if (!tmpl.ok()) return 0;
  jinja::SpecialTokens special;
  special.named = {{"bos_token", "<s>"}, {"eos_token", "</s>"}};
  special.additional = {"<|im_start|>", "<|im_end|>"};
  jinja::ChatPromptOptions options;
  options.add_generation_prompt = (size & 1) != 0;
  options.render.fixed_date = jinja::Date{2024, 7, 26};
  // Small limits keep every execution fast; hitting them is a clean error.
  options.render.max_steps = 20000;
  options.render.max_output_bytes = 1 << 20;
  options.render.max_call_depth = 32;
  auto prompt = jinja::RenderChatPrompt(**tmpl, special, Conversation(), nlohmann::ordered_json(),
                                        options);
  (void)prompt;
  return 0;
}
