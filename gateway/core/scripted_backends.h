// Scripted stand-ins for a worker shard and the tokenizer's DecodeStream, for the gateway
// core's tests over real channels.
#ifndef SLLM_GATEWAY_CORE_SCRIPTED_BACKENDS_H_
#define SLLM_GATEWAY_CORE_SCRIPTED_BACKENDS_H_

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/grpcpp.h"
#include "sllm/v1/tokenizer.grpc.pb.h"
#include "sllm/v1/worker.grpc.pb.h"

namespace sllm::gateway::scripted {

// A worker whose Generate streams one token per message, ids 1..n, the last message with the
// finish fields; between messages it can wait for the test.
class ScriptedWorker final : public v1::WorkerService::Service {
 public:
  int tokens = 5;
  grpc::Status end = grpc::Status::OK;  // The status after the messages.
  int hold_after = -1;                  // Waits for `release` after this many messages.
  bool until_cancelled = false;         // Streams until the client cancels.
  absl::Notification release;
  absl::Notification handler_returned;

  grpc::Status Generate(grpc::ServerContext* ctx, const v1::WorkerGenerateRequest* request,
                        grpc::ServerWriter<v1::WorkerGenerateResponse>* writer) override {
    grpc::Status st = Stream(ctx, *request, writer);
    handler_returned.Notify();
    return st;
  }

 private:
  grpc::Status Stream(grpc::ServerContext* ctx, const v1::WorkerGenerateRequest& request,
                      grpc::ServerWriter<v1::WorkerGenerateResponse>* writer) {
    if (until_cancelled) {
      v1::WorkerGenerateResponse msg;
      msg.add_token_ids(1);
      while (writer->Write(msg)) {
      }
      return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    }
    for (int i = 1; i <= tokens; ++i) {
      v1::WorkerGenerateResponse msg;
      msg.add_token_ids(i);
      if (request.logprobs().enabled()) {
        msg.add_logprobs()->set_token_id(i);
        msg.mutable_logprobs(0)->set_logprob(-0.5f * i);
      }
      if (i == 1) msg.mutable_timings()->set_time_to_first_token_us(7);
      msg.mutable_timings()->set_step_us(10 * i);
      if (i == tokens && end.ok()) {
        msg.set_finish_reason(v1::FINISH_REASON_STOP);
        msg.set_stop_token_id(i);
        msg.mutable_usage()->set_prompt_tokens(3);
        msg.mutable_usage()->set_completion_tokens(tokens);
      }
      if (!writer->Write(msg)) return grpc::Status(grpc::StatusCode::CANCELLED, "gone");
      if (i == hold_after) release.WaitForNotification();
    }
    return end;
  }
};

// A DecodeStream that answers each request with its ids as text, "<1><2>", and "." on the
// finish message; after `fail_after` answers it ends the call UNAVAILABLE.
class ScriptedDecoder final : public v1::TokenizerService::Service {
 public:
  int fail_after = -1;
  absl::Mutex mu;
  std::string model ABSL_GUARDED_BY(mu);  // From the start message.
  std::atomic<int> requests{0};
  std::atomic<int> bad_starts{0};    // Requests after the first that carried a start.

  grpc::Status DecodeStream(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::DecodeStreamResponse, v1::DecodeStreamRequest>* stream)
      override {
    v1::DecodeStreamRequest request;
    int answered = 0;
    while (stream->Read(&request)) {
      if (requests++ == 0) {
        absl::MutexLock lock(&mu);
        model = request.start().model();
      } else if (request.has_start()) {
        ++bad_starts;
      }
      if (answered == fail_after) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "decoder down");
      }
      v1::DecodeStreamResponse response;
      for (uint32_t id : request.ids()) absl::StrAppend(response.mutable_text(), "<", id, ">");
      if (request.finish()) {
        response.mutable_text()->append(".");
        response.set_finished(true);
      }
      if (!stream->Write(response)) break;
      ++answered;
    }
    return grpc::Status::OK;
  }
};

}  // namespace sllm::gateway::scripted

#endif  // SLLM_GATEWAY_CORE_SCRIPTED_BACKENDS_H_
