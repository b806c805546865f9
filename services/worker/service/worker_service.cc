#include "services/worker/service/worker_service.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/worker_response_merge.h"
#include "services/common/grpc_status.h"
#include "services/worker/service/generate_streams.h"
#include "services/worker/service/generation_recorder.h"

namespace sllm::worker {
namespace {

// One Generate stream. The engine thread pushes messages; gRPC writes them one at a time. A
// message pushed while another is being written waits, and later ones join it
// (AppendWorkerResponse): a client that reads slowly gets fewer, larger messages, and the
// shard holds at most two for it rather than one per token.
// State shared with the engine callback outlives the reactor (the callback may fire late).
class GenerateReactor : public grpc::ServerWriteReactor<v1::WorkerGenerateResponse> {
 public:
  struct Shared {
    std::mutex mu;
    GenerateReactor* reactor = nullptr;  // Null once the call is done.
    std::deque<v1::WorkerGenerateResponse> queue;  // front() is being written; one waits.
    bool writing = false;
    bool finished = false;       // The last message is queued.
    bool finish_called = false;  // Finish() was called on the reactor.
  };

  GenerateReactor(ServedEngine& served, const v1::WorkerGenerateRequest& request)
      : served_(served), shared_(std::make_shared<Shared>()) {
    shared_->reactor = this;
    auto params = ToGenerateParams(request);
    if (!params.ok()) {
      Reject(params.status());
      return;
    }
    auto shared = shared_;
    GenerationRecorder recorder(served.metrics.get());
    auto id = served.engine->Submit(
        std::move(*params), [shared, recorder](const TokenEvent& ev) mutable {
          v1::WorkerGenerateResponse msg;
          if (recorder.Record(ev, &msg) == GenerationRecorder::Result::kRefused) {
            // End the call with the status, so that the gateway can try another shard or
            // answer RESOURCE_EXHAUSTED, as for a refusal at Submit.
            FailBeforeFirstToken(shared, ev.error);
            return;
          }
          Push(shared, std::move(msg), ev.finished);
        });
    if (!id.ok()) {
      Reject(id.status());
      return;
    }
    id_ = *id;
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(shared_->mu);
    shared_->queue.pop_front();
    shared_->writing = false;
    if (!ok) {  // The client is gone: stop generating and end the call.
      shared_->finished = true;
      shared_->queue.clear();
      const bool finish = !std::exchange(shared_->finish_called, true);
      lock.unlock();
      served_.engine->Cancel(id_);
      if (finish) Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
      return;
    }
    if (!shared_->queue.empty()) {
      shared_->writing = true;
      StartWrite(&shared_->queue.front());
    } else if (shared_->finished && !std::exchange(shared_->finish_called, true)) {
      lock.unlock();
      Finish(grpc::Status::OK);
    }
  }

  void OnCancel() override {
    if (id_ != 0) served_.engine->Cancel(id_);
  }

  void OnDone() override {
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->reactor = nullptr;
    }
    delete this;
  }

 private:
  static void Push(const std::shared_ptr<Shared>& shared, v1::WorkerGenerateResponse msg,
                   bool last) {
    std::unique_lock<std::mutex> lock(shared->mu);
    if (shared->reactor == nullptr || shared->finished) return;
    if (shared->queue.size() >= 2) {
      AppendWorkerResponse(msg, &shared->queue.back());
    } else {
      shared->queue.push_back(std::move(msg));
    }
    shared->finished = last;
    if (!shared->writing) {
      shared->writing = true;
      shared->reactor->StartWrite(&shared->queue.front());
    }
  }

  static void FailBeforeFirstToken(const std::shared_ptr<Shared>& shared,
                                   const absl::Status& status) {
    std::lock_guard<std::mutex> lock(shared->mu);
    if (shared->reactor == nullptr || shared->finished) return;
    shared->finished = true;
    if (shared->writing || std::exchange(shared->finish_called, true)) return;
    // OnDone (which clears `reactor`) takes the lock, so the reactor is alive here.
    shared->reactor->Finish(ToGrpcStatus(status));
  }

  void Reject(const absl::Status& status) {
    GenerationRecorder::CountRejected(served_.metrics.get());
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->finished = true;
      shared_->finish_called = true;
    }
    Finish(ToGrpcStatus(status));
  }

  ServedEngine& served_;
  std::shared_ptr<Shared> shared_;
  uint64_t id_ = 0;
};

class ErrorWriter : public grpc::ServerWriteReactor<v1::WorkerGenerateResponse> {
 public:
  explicit ErrorWriter(const absl::Status& status) { Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

absl::StatusOr<GenerateParams> ToGenerateParams(const v1::WorkerGenerateRequest& r) {
  GenerateParams p;
  p.prompt.assign(r.prompt_ids().begin(), r.prompt_ids().end());
  const v1::SamplingParams& s = r.sampling();
  if (s.has_temperature()) p.sampling.temperature = s.temperature();
  if (s.has_top_p()) p.sampling.top_p = s.top_p();
  if (s.has_top_k()) p.sampling.top_k = s.top_k();
  if (s.has_min_p()) p.sampling.min_p = s.min_p();
  if (s.has_repetition_penalty()) p.sampling.repetition_penalty = s.repetition_penalty();
  p.sampling.presence_penalty = s.presence_penalty();
  p.sampling.frequency_penalty = s.frequency_penalty();
  if (s.has_seed()) p.sampling.seed = s.seed();
  if (r.logprobs().enabled()) {
    if (r.logprobs().top_logprobs() > 20) {
      return absl::InvalidArgumentError(absl::StrCat("top_logprobs must be in [0, 20], got ",
                                                     r.logprobs().top_logprobs()));
    }
    p.sampling.logprobs = static_cast<int32_t>(r.logprobs().top_logprobs());
  }
  const v1::StoppingCriteria& st = r.stopping();
  // uint32 on the wire, int32 in the engine: saturate (a plain cast would wrap 2^32-1 to -1).
  constexpr uint32_t kMaxInt32 = std::numeric_limits<int32_t>::max();
  p.stopping.max_new_tokens = static_cast<int32_t>(
      st.has_max_new_tokens() ? std::min(st.max_new_tokens(), kMaxInt32) : kMaxInt32);
  p.stopping.min_new_tokens = static_cast<int32_t>(std::min(st.min_new_tokens(), kMaxInt32));
  p.stopping.ignore_eos = st.ignore_eos();
  p.stopping.stop_token_ids.insert(st.stop_token_ids().begin(), st.stop_token_ids().end());
  return p;
}

WorkerServiceImpl::WorkerServiceImpl(uint32_t shard_id, std::string shard_name,
                                     std::map<std::string, ServedEngine*> engines)
    : shard_id_(shard_id), shard_name_(std::move(shard_name)), engines_(std::move(engines)) {}

absl::StatusOr<ServedEngine*> WorkerServiceImpl::Find(const std::string& model) const {
  auto it = engines_.find(model);
  if (it != engines_.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [n, e] : engines_) names.push_back(n);
  return absl::NotFoundError(absl::StrCat("model '", model, "' is not served by this shard; models: ",
                                          absl::StrJoin(names, ", ")));
}

grpc::ServerWriteReactor<v1::WorkerGenerateResponse>* WorkerServiceImpl::Generate(
    grpc::CallbackServerContext* context, const v1::WorkerGenerateRequest* request) {
  auto served = Find(request->model());
  if (!served.ok()) return new ErrorWriter(served.status());
  return new GenerateReactor(**served, *request);
}

grpc::ServerBidiReactor<v1::WorkerStreamsRequest, v1::WorkerStreamsResponse>*
WorkerServiceImpl::GenerateStreams(grpc::CallbackServerContext* context) {
  std::lock_guard<std::mutex> lock(streams_mu_);
  auto* reactor = new GenerateStreamsReactor(
      [this](const std::string& model) { return Find(model); },
      [this](GenerateStreamsReactor* done) {
        std::lock_guard<std::mutex> lock(streams_mu_);
        streams_.erase(done);
      },
      draining_);
  streams_.insert(reactor);
  return reactor;
}

void WorkerServiceImpl::Drain() {
  std::lock_guard<std::mutex> lock(streams_mu_);
  draining_ = true;
  // Under the lock: a reactor leaves the set (in OnDone) before it is deleted.
  for (GenerateStreamsReactor* reactor : streams_) reactor->Drain();
}

grpc::ServerUnaryReactor* WorkerServiceImpl::GetInfo(grpc::CallbackServerContext* context,
                                                     const v1::GetWorkerInfoRequest* request,
                                                     v1::GetWorkerInfoResponse* response) {
  response->set_shard_id(shard_id_);
  response->set_shard_name(shard_name_);
  response->set_version(SLLM_VERSION);
  response->set_generate_streams(true);
  for (const auto& [name, served] : engines_) {
    const Engine& e = *served->engine;
    auto* m = response->add_models();
    m->set_name(name);
    m->set_architecture(e.config().architecture);
    m->set_dtype(served->dtype);
    m->set_device(served->device);
    m->set_max_context_length(e.max_model_len());
    m->set_vocab_size(static_cast<uint32_t>(e.config().vocab_size));
    for (int64_t id : e.eos_token_ids()) m->add_eos_token_ids(static_cast<uint32_t>(id));
    m->set_kv_blocks_total(e.load().blocks_total);
  }
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* WorkerServiceImpl::GetLoad(grpc::CallbackServerContext* context,
                                                     const v1::GetLoadRequest* request,
                                                     v1::GetLoadResponse* response) {
  auto* reactor = context->DefaultReactor();
  if (!request->model().empty()) {
    if (auto found = Find(request->model()); !found.ok()) {
      reactor->Finish(ToGrpcStatus(found.status()));
      return reactor;
    }
  }
  v1::ModelLoad* total = response->mutable_total();
  for (const auto& [name, served] : engines_) {
    if (!request->model().empty() && request->model() != name) continue;
    const EngineLoad load = served->engine->load();
    auto* m = response->add_models();
    m->set_model(name);
    m->set_running(load.running);
    m->set_waiting(load.waiting);
    m->set_kv_blocks_used(load.blocks_used);
    m->set_kv_blocks_total(load.blocks_total);
    m->set_outstanding_tokens(static_cast<uint64_t>(load.outstanding_tokens));
    total->set_running(total->running() + load.running);
    total->set_waiting(total->waiting() + load.waiting);
    total->set_kv_blocks_used(total->kv_blocks_used() + load.blocks_used);
    total->set_kv_blocks_total(total->kv_blocks_total() + load.blocks_total);
    total->set_outstanding_tokens(total->outstanding_tokens() +
                                  static_cast<uint64_t>(load.outstanding_tokens));
  }
  response->set_ready(ready_);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace sllm::worker
