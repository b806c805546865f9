#include "services/tokenizer/service/tokenizer_core.h"

#include "gtest/gtest.h"

namespace sllm::tokenizer {
namespace {

std::unique_ptr<TokenizerCore> LoadCore() {
  auto core = TokenizerCore::Load(
      {{"stories", std::string(SLLM_MODELS_DIR) + "/stories260K"},
       {"llama3", std::string(SLLM_TESTDATA_DIR) + "/tokenizers/llama3"}});
  EXPECT_TRUE(core.ok()) << core.status();
  return std::move(*core);
}

TEST(ParseModelSpecsTest, NamesAndBareFolders) {
  auto specs = ParseModelSpecs("a=/x/y,/models/stories260K/");
  ASSERT_TRUE(specs.ok()) << specs.status();
  ASSERT_EQ(specs->size(), 2u);
  EXPECT_EQ((*specs)[0].name, "a");
  EXPECT_EQ((*specs)[0].dir, "/x/y");
  EXPECT_EQ((*specs)[1].name, "stories260K");
  EXPECT_FALSE(ParseModelSpecs("").ok());
  EXPECT_FALSE(ParseModelSpecs("=dir").ok());
  specs = ParseModelSpecs("m=/x/y:template=/t/chat.jinja,/z:template=c.jinja");
  ASSERT_TRUE(specs.ok()) << specs.status();
  EXPECT_EQ((*specs)[0].dir, "/x/y");
  EXPECT_EQ((*specs)[0].chat_template, "/t/chat.jinja");
  EXPECT_EQ((*specs)[1].name, "z");
  EXPECT_EQ((*specs)[1].chat_template, "c.jinja");
  EXPECT_FALSE(ParseModelSpecs("m=/x:template=").ok());
}

v1::ChatInput OneUserMessage(const std::string& text) {
  v1::ChatInput chat;
  v1::ChatMessage* m = chat.add_messages();
  m->set_role("user");
  m->set_content(text);
  return chat;
}

TEST(TokenizerCoreTest, ChatEncodeRendersAndTokenizesWithoutPostProcessorTokens) {
  auto core = LoadCore();
  v1::EncodeRequest req;
  req.set_model("stories");
  *req.mutable_chat() = OneUserMessage("Once upon a time");
  v1::ChatMessage* second = req.mutable_chat()->add_messages();
  second->set_role("assistant");
  second->set_content("there was");
  auto r = core->Encode(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->prompt(), "<s>Once upon a timethere was");  // trim_blocks eats the newline.
  // As ref_chat_template.js --tokenize (HF tokenizers, add_special_tokens=False): one <s>.
  EXPECT_EQ(std::vector<uint32_t>(r->ids().begin(), r->ids().end()),
            (std::vector<uint32_t>{1, 403, 407, 261, 259, 288, 316, 260, 276, 286}));
  req.set_add_special_tokens(true);  // Asked for: the post-processor adds a second BOS.
  auto doubled = core->Encode(req);
  ASSERT_TRUE(doubled.ok());
  EXPECT_EQ(doubled->ids_size(), r->ids_size() + 1);
}

TEST(TokenizerCoreTest, ChatInputBecomesTemplateVariables) {
  auto core = LoadCore();
  v1::ApplyChatTemplateRequest req;
  req.set_model("llama3");
  req.set_chat_template(
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}|{{ m.content }}|{{ m.name }}|"
      "{{ m.tool_calls | tojson }}|{{ m.tool_call_id }}|{{ m.reasoning_content }}|{{ m.score }}]"
      "{% endfor %}{{ tools | tojson }}|{{ documents | tojson }}|{{ enable_thinking }}|"
      "{{ add_generation_prompt }}");
  v1::ChatInput* chat = req.mutable_chat();
  v1::ChatMessage* a = chat->add_messages();
  a->set_role("assistant");  // No content: none.
  a->set_name("bot");
  a->set_tool_calls_json(R"([{"function": {"name": "f", "arguments": {"x": 1.0}}}])");
  a->set_reasoning_content("why");
  (*a->mutable_extra_json())["score"] = "0.5";
  v1::ChatMessage* t = chat->add_messages();
  t->set_role("tool");
  t->set_content("");
  t->set_tool_call_id("abc");
  chat->set_tools_json(R"([{"type": "function"}])");
  chat->set_documents_json(R"([{"text": "d"}])");
  (*chat->mutable_template_kwargs_json())["enable_thinking"] = "false";
  chat->set_add_generation_prompt(true);
  auto r = core->ApplyChatTemplate(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->prompt(),
            "<|begin_of_text|>[assistant||bot|[{\"function\": {\"name\": \"f\", \"arguments\": {\"x\": 1}}}]"
            "||why|0.5][tool|||null|abc||][{\"type\": \"function\"}]|[{\"text\": \"d\"}]|false|true");
}

TEST(TokenizerCoreTest, ChatErrors) {
  auto core = LoadCore();
  v1::ApplyChatTemplateRequest req;
  req.set_model("llama3");
  req.set_chat_template("{{ messages[0].content }}");
  auto r = core->ApplyChatTemplate(req);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);  // No messages.
  *req.mutable_chat() = OneUserMessage("hi");
  req.mutable_chat()->mutable_messages(0)->set_tool_calls_json("[{");
  r = core->ApplyChatTemplate(req);
  EXPECT_EQ(r.status().message(), "chat.messages[0].tool_calls_json is not valid JSON");
  // A million nested arrays would overflow the stack of whatever walks them.
  *req.mutable_chat() = OneUserMessage("hi");
  req.mutable_chat()->set_tools_json(std::string(1000000, '[') + std::string(1000000, ']'));
  r = core->ApplyChatTemplate(req);
  EXPECT_EQ(r.status().message(),
            "chat.tools_json nests arrays and objects more than 64 levels deep (level 65 opens "
            "at byte offset 64)");
  *req.mutable_chat() = OneUserMessage("hi");
  req.mutable_chat()->set_add_generation_prompt(true);
  req.mutable_chat()->set_continue_final_message(true);
  EXPECT_EQ(core->ApplyChatTemplate(req).status().code(), absl::StatusCode::kInvalidArgument);
  req.mutable_chat()->set_add_generation_prompt(false);
  r = core->ApplyChatTemplate(req);  // continue_final_message: cut after the content.
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->prompt(), "hi");
  req.set_chat_template("{% for %}");
  r = core->ApplyChatTemplate(req);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("template line 1"), std::string_view::npos);
}

TEST(TokenizerCoreTest, TemplateFileForAModelWithoutOne) {
  const std::string mistral = std::string(SLLM_TESTDATA_DIR) + "/tokenizers/mistral-spm";
  const std::string file =
      std::string(SLLM_TESTDATA_DIR) + "/chat_templates/mistralai-Mistral-Nemo-Instruct-2407.jinja";
  auto missing = TokenizerCore::Load({{"m", mistral, std::string("/nonexistent.jinja")}});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  auto core = TokenizerCore::Load({{"m", mistral, file}});
  ASSERT_TRUE(core.ok()) << core.status();
  v1::GetTokenizerInfoRequest info_req;
  info_req.set_model("m");
  EXPECT_TRUE((*core)->GetInfo(info_req)->has_chat_template());
  v1::ApplyChatTemplateRequest req;
  req.set_model("m");
  *req.mutable_chat() = OneUserMessage("Hello");
  auto r = (*core)->ApplyChatTemplate(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->prompt(), "<s>[INST]Hello[/INST]");
}

TEST(TokenizerCoreTest, LoadErrorsNameTheFolder) {
  auto core = TokenizerCore::Load({{"x", "/nonexistent/folder"}});
  ASSERT_FALSE(core.ok());
  EXPECT_EQ(core.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(core.status().message().find("/nonexistent/folder"), std::string_view::npos);
}

TEST(TokenizerCoreTest, EncodeTextWithOffsets) {
  auto core = LoadCore();
  v1::EncodeRequest req;
  req.set_model("stories");
  req.set_text("Once upon a time");
  req.set_return_offsets(true);
  auto r = core->Encode(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::vector<uint32_t>(r->ids().begin(), r->ids().end()),
            (std::vector<uint32_t>{1, 403, 407, 261, 378}));
  ASSERT_EQ(r->offsets_size(), 10);
  EXPECT_EQ(r->offsets(0), r->offsets(1));  // BOS: empty range.
  EXPECT_EQ(r->offsets(2), 0u);
  EXPECT_EQ(r->offsets(3), 4u);  // "Once"
  req.set_add_special_tokens(false);
  EXPECT_EQ(core->Encode(req)->ids_size(), 4);
}

TEST(TokenizerCoreTest, DecodeStreamSessionJoinsToDecode) {
  auto core = LoadCore();
  DecodeStreamSession session(*core);
  v1::DecodeStreamRequest first;
  first.mutable_start()->set_model("llama3");
  auto r = session.Handle(first);
  ASSERT_TRUE(r.ok()) << r.status();
  v1::EncodeRequest enc;
  enc.set_model("llama3");
  enc.set_text("한국어 스트리밍");
  auto ids = core->Encode(enc);
  std::string joined;
  for (uint32_t id : ids->ids()) {
    v1::DecodeStreamRequest req;
    req.add_ids(id);
    auto resp = session.Handle(req);
    ASSERT_TRUE(resp.ok()) << resp.status();
    joined += resp->text();
  }
  v1::DecodeStreamRequest fin;
  fin.set_finish(true);
  auto last = session.Handle(fin);
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->finished());
  joined += last->text();
  EXPECT_EQ(joined, "한국어 스트리밍");
  EXPECT_EQ(last->num_ids(), static_cast<uint32_t>(ids->ids_size()));
  EXPECT_EQ(session.Handle(fin).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(TokenizerCoreTest, GetInfoReportsSpecialTokensAndEosUnion) {
  auto core = LoadCore();
  v1::GetTokenizerInfoRequest req;
  req.set_model("stories");
  auto info = core->GetInfo(req);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->vocab_size(), 512u);
  EXPECT_EQ(info->bos().text(), "<s>");
  EXPECT_EQ(info->eos().id(), 2u);
  EXPECT_EQ(std::vector<uint32_t>(info->eos_token_ids().begin(), info->eos_token_ids().end()),
            (std::vector<uint32_t>{1, 2}));
  EXPECT_TRUE(info->has_chat_template());
  EXPECT_EQ(info->model_max_length(), 512u);
  EXPECT_EQ(info->special_tokens_size(), 3);
}

}  // namespace
}  // namespace sllm::tokenizer
