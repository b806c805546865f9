#include "services/tokenizer/jinja/chat_prompt.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sllm::tokenizer::jinja {
namespace {

using Json = nlohmann::ordered_json;
using ::testing::HasSubstr;

SpecialTokens Llama3Tokens() {
  SpecialTokens t;
  t.named = {{"bos_token", "<|begin_of_text|>"}, {"eos_token", "<|end_of_text|>"}};
  t.additional = {"<|eot_id|>"};
  return t;
}

TEST(ChatPromptTest, ContextHasTheVariablesTransformersPasses) {
  const Json conversation = Json::parse(
      R"({"messages": [{"role": "user", "content": "hi"}], "tools": [{"name": "f"}],
          "enable_thinking": false, "bos_token": "<override>"})");
  auto ctx = BuildChatContext(Llama3Tokens(), conversation, Json{{"enable_thinking", true}},
                              /*add_generation_prompt=*/true);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ((*ctx)["bos_token"], "<override>");  // Conversation keys override special tokens.
  EXPECT_EQ((*ctx)["eos_token"], "<|end_of_text|>");
  EXPECT_EQ((*ctx)["additional_special_tokens"], Json::array({"<|eot_id|>"}));
  EXPECT_TRUE((*ctx)["documents"].is_null());
  EXPECT_EQ((*ctx)["tools"][0]["name"], "f");
  EXPECT_EQ((*ctx)["add_generation_prompt"], true);
  EXPECT_EQ((*ctx)["enable_thinking"], true);  // Overrides win.
  EXPECT_EQ((*ctx)["messages"][0]["content"], "hi");
  // A bare messages array is a conversation too; anything else is not.
  EXPECT_TRUE(BuildChatContext({}, Json::parse(R"([{"role": "user"}])"), Json(), false).ok());
  EXPECT_FALSE(BuildChatContext({}, Json::parse(R"({"msgs": []})"), Json(), false).ok());
}

constexpr char kTemplate[] =
    "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}</{{ m.role }}>\n"
    "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";

TEST(ChatPromptTest, GenerationPromptAndContinueFinalMessage) {
  auto tmpl = ChatTemplate::Parse(kTemplate);
  ASSERT_TRUE(tmpl.ok());
  const Json conversation = Json::parse(
      R"({"messages": [{"role": "user", "content": "Hi"},
                       {"role": "assistant", "content": "The answer is "}]})");
  ChatPromptOptions options;
  auto out = RenderChatPrompt(**tmpl, Llama3Tokens(), conversation, Json(), options);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out,
            "<|begin_of_text|><user>Hi</user>\n<assistant>The answer is </assistant>\n<assistant>");
  options.add_generation_prompt = false;
  options.continue_final_message = true;
  out = RenderChatPrompt(**tmpl, Llama3Tokens(), conversation, Json(), options);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "<|begin_of_text|><user>Hi</user>\n<assistant>The answer is");
  options.add_generation_prompt = true;
  EXPECT_FALSE(RenderChatPrompt(**tmpl, Llama3Tokens(), conversation, Json(), options).ok());
}

TEST(ChatPromptTest, TemplateErrorsComeBackWithTheirLine) {
  auto tmpl = ChatTemplate::Parse(
      "{% if messages[0].role == 'system' %}\n{{ raise_exception('System role not supported') }}"
      "{% endif %}");
  ASSERT_TRUE(tmpl.ok());
  auto out = RenderChatPrompt(**tmpl, {}, Json::parse(R"([{"role": "system", "content": "x"}])"),
                              Json(), {});
  EXPECT_EQ(out.status().message(), "template line 2: raise_exception: System role not supported");
}

}  // namespace
}  // namespace sllm::tokenizer::jinja
