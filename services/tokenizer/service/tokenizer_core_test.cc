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
