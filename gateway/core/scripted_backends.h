// Scripted stand-ins for a worker shard and the tokenizer's DecodeStreams, for the gateway
// core's tests over real channels.
#ifndef SLLM_GATEWAY_CORE_SCRIPTED_BACKENDS_H_
#define SLLM_GATEWAY_CORE_SCRIPTED_BACKENDS_H_

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/grpcpp.h"
#include "sllm/v1/tokenizer.grpc.pb.h"
#include "sllm/v1/worker.grpc.pb.h"

namespace sllm::gateway::scripted {

// A worker whose Generate streams one token per message, ids 1..n, the last message with the
// finish fields; between messages it can wait for the test. It serves model "m" (context 64,
// vocabulary 100) to a ShardPool's polls.
class ScriptedWorker final : public v1::WorkerService::Service {
 public:
  grpc::Status GetInfo(grpc::ServerContext*, const v1::GetWorkerInfoRequest*,
                       v1::GetWorkerInfoResponse* info) override {
    v1::ServedModel* m = info->add_models();
    m->set_name("m");
    m->set_max_context_length(64);
    m->set_vocab_size(100);
    return grpc::Status::OK;
  }
  grpc::Status GetLoad(grpc::ServerContext*, const v1::GetLoadRequest*,
                       v1::GetLoadResponse* load) override {
    load->set_ready(true);
    return grpc::Status::OK;
  }

  int tokens = 5;
  grpc::Status end = grpc::Status::OK;  // The status after the messages.
  int hold_after = -1;                  // Waits for `release` after this many messages.
  bool until_cancelled = false;         // Streams until the client cancels.
  absl::Notification release;
  absl::Notification handler_returned;  // The first call's handler returned.
  std::atomic<int> returned{0};         // Handlers that returned.

  grpc::Status Generate(grpc::ServerContext* ctx, const v1::WorkerGenerateRequest* request,
                        grpc::ServerWriter<v1::WorkerGenerateResponse>* writer) override {
    grpc::Status st = Stream(ctx, *request, writer);
    if (returned++ == 0) handler_returned.Notify();
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

// A DecodeStreams that answers each step with its ids as text, "<1><2>", and "." on the
// finish step; after `fail_after` answered messages it ends the call UNAVAILABLE. With
// `hold_first` it holds its answer to the first message until `release_first`.
class ScriptedDecoder final : public v1::TokenizerService::Service {
 public:
  int fail_after = -1;
  bool hold_first = false;
  absl::Notification first_received;
  absl::Notification release_first;
  absl::Mutex mu;
  std::string model ABSL_GUARDED_BY(mu);                 // From the first start.
  std::vector<int> message_steps ABSL_GUARDED_BY(mu);    // Steps in each message received.
  std::vector<uint64_t> cancelled ABSL_GUARDED_BY(mu);   // Sequences cancelled, in order.
  std::atomic<bool> draining{false};  // Answers say the service drains.
  int streams_ended ABSL_GUARDED_BY(mu) = 0;  // Calls that ended (the client half-closed).
  std::atomic<int> streams{0};
  std::atomic<int> requests{0};    // Steps answered.
  std::atomic<int> bad_starts{0};  // Steps that started a sequence already started.

  grpc::Status DecodeStreams(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::DecodeStreamsResponse, v1::DecodeStreamsRequest>* stream)
      override {
    ++streams;
    std::set<uint64_t> started;
    v1::DecodeStreamsRequest request;
    int answered = 0;
    while (stream->Read(&request)) {
      {
        absl::MutexLock lock(&mu);
        message_steps.push_back(request.steps_size());
        for (const auto& step : request.steps()) {
          if (step.cancel()) cancelled.push_back(step.sequence());
          if (model.empty() && step.request().has_start()) model = step.request().start().model();
        }
      }
      if (answered == 0 && hold_first) {
        first_received.Notify();
        release_first.WaitForNotification();
      }
      if (answered == fail_after) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "decoder down");
      }
      v1::DecodeStreamsResponse response;
      for (const auto& step : request.steps()) {
        if (step.cancel()) {
          started.erase(step.sequence());
          continue;
        }
        if (step.request().has_start() && !started.insert(step.sequence()).second) ++bad_starts;
        ++requests;
        v1::DecodeStreamsResponse::Result* result = response.add_results();
        result->set_sequence(step.sequence());
        std::string* text = result->mutable_response()->mutable_text();
        for (uint32_t id : step.request().ids()) absl::StrAppend(text, "<", id, ">");
        if (step.request().finish()) {
          text->append(".");
          result->mutable_response()->set_finished(true);
          started.erase(step.sequence());
        }
      }
      response.set_draining(draining);
      if (!stream->Write(response)) break;
      ++answered;
    }
    absl::MutexLock lock(&mu);
    ++streams_ended;
    return grpc::Status::OK;
  }
};

}  // namespace sllm::gateway::scripted

#endif  // SLLM_GATEWAY_CORE_SCRIPTED_BACKENDS_H_
