// The tokenizer service over a real channel on port 0: every rpc and every error code.
#include "services/tokenizer/service/tokenizer_service.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/common/test_util.h"

namespace sllm::tokenizer {
namespace {

class TokenizerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto core = TokenizerCore::Load(
        {{"stories", std::string(SLLM_MODELS_DIR) + "/stories260K"},
         {"mistral", std::string(SLLM_TESTDATA_DIR) + "/tokenizers/mistral-spm"}});
    ASSERT_TRUE(core.ok()) << core.status();
    core_ = std::move(*core);
    ServerOptions options;
    options.host = "127.0.0.1";
    options.metrics_host = "127.0.0.1";
    options.handle_signals = false;
    runner_ = std::make_unique<ServiceRunner>(options);
    service_ = std::make_unique<TokenizerServiceImpl>(*core_, runner_->registry());
    runner_->AddService(service_.get());
    runner_->OnDrain([this] { service_->Drain(); });  // As main.cc does.
    ASSERT_TRUE(runner_->Start().ok());
    stub_ = v1::TokenizerService::NewStub(testing::InsecureChannel(runner_->local_target()));
  }
  void TearDown() override {
    runner_->Shutdown();
    runner_->Wait();
  }

  grpc::Status Encode(const std::string& model, const std::string& text, v1::EncodeResponse* r) {
    grpc::ClientContext ctx;
    v1::EncodeRequest req;
    req.set_model(model);
    req.set_text(text);
    return stub_->Encode(&ctx, req, r);
  }

  std::unique_ptr<TokenizerCore> core_;
  std::unique_ptr<ServiceRunner> runner_;
  std::unique_ptr<TokenizerServiceImpl> service_;
  std::unique_ptr<v1::TokenizerService::Stub> stub_;
};

TEST_F(TokenizerServiceTest, EncodeAndDecode) {
  v1::EncodeResponse enc;
  ASSERT_TRUE(Encode("stories", "Once upon a time", &enc).ok());
  EXPECT_EQ(enc.ids_size(), 5);
  grpc::ClientContext ctx;
  v1::DecodeRequest dec;
  dec.set_model("stories");
  dec.mutable_ids()->CopyFrom(enc.ids());
  dec.set_skip_special_tokens(true);
  v1::DecodeResponse text;
  ASSERT_TRUE(stub_->Decode(&ctx, dec, &text).ok());
  EXPECT_EQ(text.text(), "Once upon a time");
}

TEST_F(TokenizerServiceTest, ErrorsHaveTheirCodesAndTheServiceKeepsServing) {
  v1::EncodeResponse enc;
  grpc::Status st = Encode("stories", "ab\xC3(", &enc);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "text is not valid UTF-8: invalid byte 0xc3 at byte offset 2");

  st = Encode("nope", "hi", &enc);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "model 'nope' is not served here; models: mistral, stories");

  grpc::ClientContext ctx;
  v1::DecodeRequest dec;
  dec.set_model("stories");
  dec.add_ids(1);
  dec.add_ids(4096);
  v1::DecodeResponse text;
  st = stub_->Decode(&ctx, dec, &text);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "token id 4096 is outside the vocabulary (size 512)");

  // mistral-spm's folder has no chat template: chat is FAILED_PRECONDITION naming the model.
  grpc::ClientContext chat_ctx;
  v1::EncodeRequest chat;
  chat.set_model("mistral");
  chat.mutable_chat()->add_messages()->set_role("user");
  st = stub_->Encode(&chat_ctx, chat, &enc);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("'mistral' has no chat template"), std::string::npos);

  grpc::ClientContext apply_ctx;
  v1::ApplyChatTemplateRequest apply;
  apply.set_model("mistral");
  v1::ApplyChatTemplateResponse prompt;
  EXPECT_EQ(stub_->ApplyChatTemplate(&apply_ctx, apply, &prompt).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  ASSERT_TRUE(Encode("stories", "still serving", &enc).ok());
}

TEST_F(TokenizerServiceTest, DecodeStreamAnswersEveryMessage) {
  v1::EncodeResponse enc;
  ASSERT_TRUE(Encode("mistral", "안녕하세요 world", &enc).ok());
  grpc::ClientContext ctx;
  auto stream = stub_->DecodeStream(&ctx);
  v1::DecodeStreamRequest req;
  req.mutable_start()->set_model("mistral");
  req.mutable_start()->set_skip_special_tokens(true);
  std::string joined;
  v1::DecodeStreamResponse resp;
  for (int i = 0; i < enc.ids_size(); ++i) {
    req.add_ids(enc.ids(i));
    req.set_finish(i + 1 == enc.ids_size());
    ASSERT_TRUE(stream->Write(req));
    ASSERT_TRUE(stream->Read(&resp));
    joined += resp.text();
    EXPECT_EQ(resp.num_ids(), static_cast<uint32_t>(i + 1));
    req.Clear();
  }
  EXPECT_TRUE(resp.finished());
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(joined, "안녕하세요 world");
}

TEST_F(TokenizerServiceTest, DecodeStreamErrorsEndTheStream) {
  grpc::ClientContext ctx;
  auto stream = stub_->DecodeStream(&ctx);
  v1::DecodeStreamRequest req;
  req.add_ids(5);  // No start message.
  ASSERT_TRUE(stream->Write(req));
  v1::DecodeStreamResponse resp;
  EXPECT_FALSE(stream->Read(&resp));
  const grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "start: the first DecodeStream message must set start");
}

TEST_F(TokenizerServiceTest, DecodeStreamsAnswersEachMessageForItsSequences) {
  v1::EncodeResponse korean, english;
  ASSERT_TRUE(Encode("mistral", "안녕하세요 world", &korean).ok());
  ASSERT_TRUE(Encode("stories", "Once upon a time", &english).ok());
  grpc::ClientContext ctx;
  auto stream = stub_->DecodeStreams(&ctx);
  std::string joined_korean, joined_english;
  const int n = std::max(korean.ids_size(), english.ids_size());
  for (int i = 0; i <= n; ++i) {
    v1::DecodeStreamsRequest req;
    for (const auto& [seq, enc] : {std::pair<uint64_t, const v1::EncodeResponse*>{1, &korean},
                                   {2, &english}}) {
      v1::DecodeStreamsRequest::Step* step = req.add_steps();
      step->set_sequence(seq);
      if (i == 0) {
        step->mutable_request()->mutable_start()->set_model(seq == 1 ? "mistral" : "stories");
        step->mutable_request()->mutable_start()->set_skip_special_tokens(true);
      }
      if (i < enc->ids_size()) step->mutable_request()->add_ids(enc->ids(i));
      step->mutable_request()->set_finish(i == n);
    }
    ASSERT_TRUE(stream->Write(req));
    v1::DecodeStreamsResponse resp;
    ASSERT_TRUE(stream->Read(&resp));
    ASSERT_EQ(resp.results_size(), 2);
    EXPECT_FALSE(resp.draining());
    ASSERT_EQ(resp.results(0).error_code(), 0) << resp.results(0).error_message();
    joined_korean += resp.results(0).response().text();
    joined_english += resp.results(1).response().text();
  }
  EXPECT_FALSE(service_->draining());
  // A step's error answers that step and leaves the stream open; once the service drains,
  // answers say so.
  service_->Drain();
  v1::DecodeStreamsRequest orphan;
  orphan.add_steps()->set_sequence(1);  // Finished above: no longer open.
  ASSERT_TRUE(stream->Write(orphan));
  v1::DecodeStreamsResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  ASSERT_EQ(resp.results_size(), 1);
  EXPECT_EQ(resp.results(0).error_code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(resp.results(0).error_message(),
            "steps[0].request.start: sequence 1 is not open: its first step must set start");
  EXPECT_TRUE(resp.draining());
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(joined_korean, "안녕하세요 world");
  // Each joins to what Decode makes of its ids.
  grpc::ClientContext decode_ctx;
  v1::DecodeRequest decode;
  decode.set_model("stories");
  *decode.mutable_ids() = english.ids();
  decode.set_skip_special_tokens(true);
  v1::DecodeResponse decoded;
  ASSERT_TRUE(stub_->Decode(&decode_ctx, decode, &decoded).ok());
  EXPECT_EQ(joined_english, decoded.text());
  const std::string metrics = testing::HttpGet(runner_->metrics_port(), "/metrics");
  EXPECT_NE(metrics.find(absl::StrCat(R"(sllm_tokenizer_tokens_total{model="mistral",rpc="DecodeStreams"} )",
                                      korean.ids_size())),
            std::string::npos)
      << metrics;
}

TEST_F(TokenizerServiceTest, InfoModelsAndMetrics) {
  grpc::ClientContext ctx;
  v1::ListTokenizerModelsResponse models;
  ASSERT_TRUE(stub_->ListModels(&ctx, {}, &models).ok());
  ASSERT_EQ(models.models_size(), 2);
  EXPECT_EQ(models.models(0), "mistral");
  grpc::ClientContext info_ctx;
  v1::GetTokenizerInfoRequest info_req;
  info_req.set_model("mistral");
  v1::GetTokenizerInfoResponse info;
  ASSERT_TRUE(stub_->GetInfo(&info_ctx, info_req, &info).ok());
  EXPECT_EQ(info.vocab_size(), 32000u);
  EXPECT_FALSE(info.has_chat_template());

  v1::EncodeResponse enc;
  ASSERT_TRUE(Encode("stories", "Once upon a time", &enc).ok());
  ASSERT_FALSE(Encode("stories", "\xFF", &enc).ok());
  const std::string metrics = testing::HttpGet(runner_->metrics_port(), "/metrics");
  EXPECT_NE(metrics.find(R"(sllm_rpc_requests_total{code="OK",rpc="Encode",service="tokenizer"} 1)"),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find(
                R"(sllm_rpc_requests_total{code="INVALID_ARGUMENT",rpc="Encode",service="tokenizer"} 1)"),
            std::string::npos);
  EXPECT_NE(metrics.find(R"(sllm_tokenizer_input_bytes_total{model="stories",rpc="Encode"} 16)"),
            std::string::npos);
  EXPECT_NE(metrics.find(R"(sllm_tokenizer_tokens_total{model="stories",rpc="Encode"} 5)"),
            std::string::npos);
}

TEST_F(TokenizerServiceTest, ChatEncodeRendersTheModelsTemplate) {
  // stories260K's template writes the BOS itself, so chat input is tokenized without the
  // post-processor's special tokens (as transformers' apply_chat_template(tokenize=True)).
  grpc::ClientContext ctx;
  v1::EncodeRequest req;
  req.set_model("stories");
  v1::ChatMessage* m = req.mutable_chat()->add_messages();
  m->set_role("user");
  m->set_content("Once upon a time");
  v1::EncodeResponse enc;
  grpc::Status st = stub_->Encode(&ctx, req, &enc);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(enc.prompt(), "<s>Once upon a time");
  EXPECT_EQ(std::vector<uint32_t>(enc.ids().begin(), enc.ids().end()),
            (std::vector<uint32_t>{1, 403, 407, 261, 378}));

  // A template error is FAILED_PRECONDITION with the template's message and line.
  grpc::ClientContext apply_ctx;
  v1::ApplyChatTemplateRequest apply;
  apply.set_model("stories");
  *apply.mutable_chat() = req.chat();
  apply.set_chat_template("{% if messages[0].role == 'user' %}\n{{ raise_exception('no users') }}{% endif %}");
  v1::ApplyChatTemplateResponse prompt;
  st = stub_->ApplyChatTemplate(&apply_ctx, apply, &prompt);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("template line 2: raise_exception: no users"), std::string::npos)
      << st.error_message();
}

}  // namespace
}  // namespace sllm::tokenizer
