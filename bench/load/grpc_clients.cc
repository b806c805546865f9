// Gateway gRPC (GenerateStream) and worker-direct (WorkerService.Generate) clients: blocking
// streaming calls, one per load thread, on one shared channel.
#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/load/client.h"
#include "grpcpp/grpcpp.h"
#include "services/common/grpc_status.h"
#include "sllm/v1/generation.grpc.pb.h"
#include "sllm/v1/worker.grpc.pb.h"

namespace sllm::loadgen {
namespace {

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  grpc::ChannelArguments args;
  // Streams of up to 64 concurrent requests share one HTTP/2 connection; no limit below that.
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

void SetDeadline(grpc::ClientContext* ctx, double seconds) {
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6)));
}

absl::Status ProbeError(const std::string& what, const grpc::Status& st) {
  return absl::Status(static_cast<absl::StatusCode>(st.error_code()),
                      absl::StrCat(what, ": ", st.error_message()));
}

absl::StatusOr<ModelInfo> Pick(const std::vector<ModelInfo>& models, const std::string& wanted,
                               const std::string& where) {
  std::vector<std::string> names;
  for (const ModelInfo& m : models) {
    if (wanted.empty() || m.name == wanted) return m;
    names.push_back(m.name);
  }
  return absl::NotFoundError(absl::StrCat(
      where, wanted.empty() ? " serves no model" : absl::StrCat(" does not serve '", wanted, "'"),
      "; it serves: ", names.empty() ? "nothing" : absl::StrJoin(names, ", ")));
}

// Runs one server-streaming call opened by `open(ctx)` and fills `result`. Msg is
// GenerateStreamResponse or WorkerGenerateResponse: token_ids per chunk, and on the last one a
// finish reason, usage and error text.
template <typename Msg, typename Open>
void RunStream(const RequestSpec& spec, Open open, RequestResult& result) {
  result.requested_output_tokens = spec.prompt->output_len;
  result.prompt_tokens = static_cast<int64_t>(spec.prompt->ids.size());
  grpc::ClientContext ctx;
  SetDeadline(&ctx, spec.settings->timeout_s);
  StreamRecorder recorder(&result);
  auto reader = open(&ctx);
  Msg msg;
  v1::FinishReason finish = v1::FINISH_REASON_UNSPECIFIED;
  std::string error_message;
  while (reader->Read(&msg)) {
    recorder.Chunk(msg.token_ids_size());
    if (msg.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) {
      finish = msg.finish_reason();
      error_message = msg.error_message();
      result.usage_output_tokens = msg.usage().completion_tokens();
      if (msg.usage().prompt_tokens() > 0) result.prompt_tokens = msg.usage().prompt_tokens();
      result.cached_prompt_tokens = msg.usage().cached_prompt_tokens();
    }
  }
  const grpc::Status st = reader->Finish();
  recorder.Finish();
  result.output_tokens = result.streamed;
  result.token_count_mismatch =
      result.usage_output_tokens >= 0 && result.usage_output_tokens != result.streamed;
  if (!st.ok()) {
    result.error = std::string(GrpcCodeName(st.error_code()));
    result.error_message = st.error_message();
  } else if (finish == v1::FINISH_REASON_ERROR || finish == v1::FINISH_REASON_CANCELLED ||
             finish == v1::FINISH_REASON_UNSPECIFIED) {
    result.error = "STREAM_ERROR";
    result.error_message = finish == v1::FINISH_REASON_UNSPECIFIED
                               ? "the stream ended without a finish reason"
                               : absl::StrCat("finish reason ", v1::FinishReason_Name(finish),
                                              ": ", error_message);
  } else {
    result.ok = true;
  }
}

// --- Gateway over gRPC ---------------------------------------------------------------------

class GatewaySession : public Session {
 public:
  explicit GatewaySession(v1::Generation::Stub* stub) : stub_(stub) {}

  RequestResult Send(const RequestSpec& spec) override {
    const Prompt& prompt = *spec.prompt;
    v1::GenerateRequest req;
    req.set_model(spec.settings->model);
    req.set_request_id(spec.request_id);
    if (spec.send_text) {
      req.set_text(prompt.text);
    } else {
      req.mutable_ids()->mutable_ids()->Add(prompt.ids.begin(), prompt.ids.end());
    }
    v1::GenerationParams* p = req.mutable_params();
    p->set_max_tokens(static_cast<uint32_t>(prompt.output_len));
    p->set_ignore_eos(true);
    p->set_temperature(static_cast<float>(spec.settings->temperature));
    p->set_seed(spec.settings->seed);

    RequestResult result;
    RunStream<v1::GenerateStreamResponse>(
        spec, [&](grpc::ClientContext* ctx) { return stub_->GenerateStream(ctx, req); }, result);
    return result;
  }

 private:
  v1::Generation::Stub* stub_;
};

class GatewayGrpcClient : public LoadClient {
 public:
  explicit GatewayGrpcClient(const std::string& address)
      : address_(address), stub_(v1::Generation::NewStub(Channel(address))) {}

  absl::StatusOr<ModelInfo> Probe(const std::string& model) override {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, 10);
    ctx.set_wait_for_ready(true);
    v1::ListModelsResponse resp;
    const grpc::Status st = stub_->ListModels(&ctx, {}, &resp);
    if (!st.ok()) return ProbeError(absl::StrCat("ListModels on ", address_), st);
    std::vector<ModelInfo> models;
    for (const auto& card : resp.models()) {
      models.push_back({card.id(), card.vocab_size(), card.max_context_length()});
    }
    return Pick(models, model, absl::StrCat("the gateway at ", address_));
  }

  std::unique_ptr<Session> NewSession() override {
    return std::make_unique<GatewaySession>(stub_.get());
  }

 private:
  std::string address_;
  std::unique_ptr<v1::Generation::Stub> stub_;
};

// --- One worker shard ----------------------------------------------------------------------

class WorkerSession : public Session {
 public:
  explicit WorkerSession(v1::WorkerService::Stub* stub) : stub_(stub) {}

  RequestResult Send(const RequestSpec& spec) override {
    const Prompt& prompt = *spec.prompt;
    v1::WorkerGenerateRequest req;
    req.set_model(spec.settings->model);
    req.set_request_id(spec.request_id);
    req.mutable_prompt_ids()->Add(prompt.ids.begin(), prompt.ids.end());
    req.mutable_sampling()->set_temperature(static_cast<float>(spec.settings->temperature));
    req.mutable_sampling()->set_seed(spec.settings->seed);
    req.mutable_stopping()->set_max_new_tokens(static_cast<uint32_t>(prompt.output_len));
    req.mutable_stopping()->set_ignore_eos(true);

    RequestResult result;
    RunStream<v1::WorkerGenerateResponse>(
        spec, [&](grpc::ClientContext* ctx) { return stub_->Generate(ctx, req); }, result);
    return result;
  }

 private:
  v1::WorkerService::Stub* stub_;
};

class WorkerClient : public LoadClient {
 public:
  explicit WorkerClient(const std::string& address)
      : address_(address), stub_(v1::WorkerService::NewStub(Channel(address))) {}

  absl::StatusOr<ModelInfo> Probe(const std::string& model) override {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, 10);
    ctx.set_wait_for_ready(true);
    v1::GetWorkerInfoResponse resp;
    const grpc::Status st = stub_->GetInfo(&ctx, {}, &resp);
    if (!st.ok()) return ProbeError(absl::StrCat("GetInfo on ", address_), st);
    std::vector<ModelInfo> models;
    for (const auto& m : resp.models()) {
      models.push_back({m.name(), m.vocab_size(), m.max_context_length()});
    }
    return Pick(models, model, absl::StrCat("the worker at ", address_));
  }

  std::unique_ptr<Session> NewSession() override {
    return std::make_unique<WorkerSession>(stub_.get());
  }
  bool accepts_text() const override { return false; }

 private:
  std::string address_;
  std::unique_ptr<v1::WorkerService::Stub> stub_;
};

}  // namespace

std::unique_ptr<LoadClient> MakeGatewayGrpcClient(const std::string& address) {
  return std::make_unique<GatewayGrpcClient>(address);
}

std::unique_ptr<LoadClient> MakeWorkerClient(const std::string& address) {
  return std::make_unique<WorkerClient>(address);
}

}  // namespace sllm::loadgen
