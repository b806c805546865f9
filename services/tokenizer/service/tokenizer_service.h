// gRPC edge of the tokenizer service (callback API) over TokenizerCore.
#ifndef SLLM_SERVICES_TOKENIZER_SERVICE_TOKENIZER_SERVICE_H_
#define SLLM_SERVICES_TOKENIZER_SERVICE_TOKENIZER_SERVICE_H_

#include <atomic>

#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/common/metrics.h"
#include "services/tokenizer/service/tokenizer_core.h"
#include "sllm/v1/tokenizer.grpc.pb.h"

namespace sllm::tokenizer {

class TokenizerServiceImpl final : public v1::TokenizerService::CallbackService {
 public:
  // `core` must outlive the service; metrics go to `registry`.
  TokenizerServiceImpl(const TokenizerCore& core, prometheus::Registry& registry);

  grpc::ServerUnaryReactor* Encode(grpc::CallbackServerContext* context,
                                   const v1::EncodeRequest* request,
                                   v1::EncodeResponse* response) override;
  grpc::ServerUnaryReactor* Decode(grpc::CallbackServerContext* context,
                                   const v1::DecodeRequest* request,
                                   v1::DecodeResponse* response) override;
  grpc::ServerBidiReactor<v1::DecodeStreamRequest, v1::DecodeStreamResponse>* DecodeStream(
      grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<v1::DecodeStreamsRequest, v1::DecodeStreamsResponse>* DecodeStreams(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* ApplyChatTemplate(grpc::CallbackServerContext* context,
                                              const v1::ApplyChatTemplateRequest* request,
                                              v1::ApplyChatTemplateResponse* response) override;
  grpc::ServerUnaryReactor* GetInfo(grpc::CallbackServerContext* context,
                                    const v1::GetTokenizerInfoRequest* request,
                                    v1::GetTokenizerInfoResponse* response) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const v1::ListTokenizerModelsRequest* request,
                                       v1::ListTokenizerModelsResponse* response) override;

  // The server is shutting down: DecodeStreams answers say so, and the gateway moves new
  // sequences to a new stream (on another replica, or this one restarted) and half-closes this
  // one when its sequences have ended.
  void Drain() { draining_ = true; }
  bool draining() const { return draining_; }

  // Counts input bytes and output tokens (or ids in) of one call for `model`.
  void CountTraffic(const std::string& model, const std::string& rpc, size_t bytes,
                    size_t tokens);
  RpcMetrics& rpc_metrics() { return rpc_metrics_; }

 private:
  const TokenizerCore& core_;
  RpcMetrics rpc_metrics_;
  prometheus::Family<prometheus::Counter>& bytes_;
  prometheus::Family<prometheus::Counter>& tokens_;
  std::atomic<bool> draining_{false};
};

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_SERVICE_TOKENIZER_SERVICE_H_
