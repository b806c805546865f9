#include "services/worker/engine/engine.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <malloc.h>

#include <chrono>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "services/common/status_macros.h"
#include "services/worker/kernels/blas_threads.h"

namespace sllm::worker {

struct Engine::Request {
  std::shared_ptr<Sequence> seq;
  SequenceSampler sampler;
  StoppingCriteria stopping;
  TokenCallback callback;
};

namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A step allocates and frees vocabulary-sized buffers (logits, their float32 copy): above
// glibc's default 128 KiB mmap threshold each comes from a fresh mmap and page-faults on
// first touch, and freed heap tops are trimmed back to the kernel. That cost 4-5 ms of a
// 10 ms decode step of a 128k-vocabulary model. Keep such blocks in the heap instead.
void KeepLargeAllocationsInHeap() {
  static const bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum; larger blocks (weights) still mmap.
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    return true;
  }();
  (void)done;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const std::string& model_dir,
                                                       const EngineOptions& options) {
  KeepLargeAllocationsInHeap();
  std::unique_ptr<Engine> e(new Engine());
  e->options_ = options;
  if (options.num_threads > 0) {
    at::set_num_threads(options.num_threads);
    kernels::RequestBlasThreads(options.num_threads);
  }
  ASSIGN_OR_RETURN(LoadedModel loaded, LoadModel(model_dir, options.model));
  e->config_ = loaded.config;
  e->eos_ids_ = EosTokenIds(loaded.config, loaded.generation_config);
  e->model_ = std::move(loaded.model);

  SchedulerOptions& s = e->options_.scheduler;
  const auto model_len = static_cast<int32_t>(e->config_.max_position_embeddings);
  s.max_model_len = options.max_model_len > 0 ? std::min(options.max_model_len, model_len)
                                              : model_len;
  if (s.block_size <= 0 || s.max_num_batched_tokens <= 0 || s.max_num_seqs <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "block_size, max_num_batched_tokens and max_num_seqs must be > 0, got ", s.block_size,
        ", ", s.max_num_batched_tokens, ", ", s.max_num_seqs));
  }
  int64_t tokens = options.kv_cache_tokens;
  if (tokens <= 0) tokens = std::min<int64_t>(int64_t{s.max_num_seqs} * s.max_model_len, 65536);
  KVCacheOptions kv = e->model_->KVCacheLayout();
  kv.block_size = s.block_size;
  kv.num_blocks = BlocksForTokens(tokens, s.block_size);
  // A sequence longer than the whole cache could never run: advertise (GetInfo) and enforce
  // the context the cache can hold, so that such a request is refused as too long rather than
  // retried as if the shard were busy.
  const int64_t cache_len = kv.num_blocks * s.block_size;
  if (cache_len < s.max_model_len) {
    LOG(WARNING) << "the KV cache holds " << cache_len << " tokens, fewer than the model's context of "
                 << s.max_model_len << ": serving a context of " << cache_len
                 << " (raise --kv_cache_tokens for more)";
    s.max_model_len = static_cast<int32_t>(cache_len);
  }
  e->kv_cache_ = std::make_unique<KVCache>(kv);
  e->allocator_ = std::make_unique<BlockAllocator>(static_cast<int32_t>(kv.num_blocks));
  e->scheduler_ = std::make_unique<Scheduler>(s, *e->allocator_);
  e->seed_state_ = options.seed;
  e->load_.blocks_total = static_cast<int32_t>(kv.num_blocks);
  return e;
}

Engine::~Engine() {
  Stop();
  // Requests still in flight end here: their callers hear about it.
  for (auto& [seq, r] : requests_) {
    TokenEvent ev;
    ev.finished = true;
    ev.finish_reason = FinishReason::kError;
    ev.error = absl::UnavailableError("the engine stopped");
    r->callback(ev);
  }
  for (auto& r : inbox_) {
    TokenEvent ev;
    ev.finished = true;
    ev.finish_reason = FinishReason::kError;
    ev.error = absl::UnavailableError("the engine stopped");
    r->callback(ev);
  }
  NotifyStepListeners();
}

absl::StatusOr<uint64_t> Engine::Submit(GenerateParams params, TokenCallback callback) {
  const auto vocab = static_cast<int64_t>(config_.vocab_size);
  const int32_t max_len = options_.scheduler.max_model_len;
  if (params.prompt.empty()) return absl::InvalidArgumentError("prompt_ids must not be empty");
  for (size_t i = 0; i < params.prompt.size(); ++i) {
    if (params.prompt[i] < 0 || params.prompt[i] >= vocab) {
      return absl::InvalidArgumentError(absl::StrCat("prompt_ids[", i, "] must be < ", vocab,
                                                     " (the vocabulary size), got ",
                                                     params.prompt[i]));
    }
  }
  if (static_cast<int64_t>(params.prompt.size()) >= max_len) {
    return absl::InvalidArgumentError(absl::StrCat(
        "prompt_ids has ", params.prompt.size(), " tokens; the context length is ", max_len,
        " and at least one token must be generated"));
  }
  RETURN_IF_ERROR(ValidateSamplingParams(params.sampling));
  StoppingCriteria& stop = params.stopping;
  if (stop.max_new_tokens <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_new_tokens must be >= 1, got ", stop.max_new_tokens));
  }
  stop.max_new_tokens =
      std::min<int32_t>(stop.max_new_tokens, max_len - static_cast<int32_t>(params.prompt.size()));
  stop.max_model_len = max_len;
  if (stop.eos_ids.empty()) {
    for (int64_t id : eos_ids_) stop.eos_ids.insert(static_cast<uint32_t>(id));
  }
  const int64_t blocks =
      BlocksForTokens(static_cast<int64_t>(params.prompt.size()) + stop.max_new_tokens,
                      options_.scheduler.block_size);
  if (blocks > allocator_->num_blocks()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "request needs ", blocks, " KV blocks but the whole cache holds ",
        allocator_->num_blocks()));
  }

  std::vector<uint32_t> prompt32(params.prompt.begin(), params.prompt.end());
  auto seq = std::make_shared<Sequence>();
  seq->tokens = std::move(params.prompt);
  seq->prompt_len = static_cast<int32_t>(seq->tokens.size());
  seq->max_new_tokens = stop.max_new_tokens;
  seq->submitted_nanos = NowNanos();
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return absl::UnavailableError("the engine is stopping");
  const int32_t queued = load_.waiting + static_cast<int32_t>(inbox_.size());
  if (queued >= options_.scheduler.max_waiting) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "worker overloaded: ", queued, " requests are waiting (limit ",
        options_.scheduler.max_waiting, ")"));
  }
  seq->id = next_id_++;
  const uint64_t seed = SplitMix64(seed_state_);
  inbox_.push_back(std::unique_ptr<Request>(
      new Request{seq, SequenceSampler(params.sampling, prompt32, seed), std::move(stop),
                  std::move(callback)}));
  live_[seq->id] = seq;
  wake_.notify_one();
  return seq->id;
}

void Engine::Cancel(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(id);
  if (it != live_.end()) it->second->cancelled = true;
}

void Engine::Admit() {
  std::vector<std::unique_ptr<Request>> incoming;
  {
    std::lock_guard<std::mutex> lock(mu_);
    incoming.swap(inbox_);
    // Out of the inbox but not yet counted by the scheduler: count them as waiting now, under
    // the same lock, so that Submit's queue limit and load() never miss them.
    load_.waiting += static_cast<int32_t>(incoming.size());
    for (const auto& r : incoming) {
      load_.outstanding_tokens += r->seq->num_outstanding();
    }
  }
  for (auto& r : incoming) {
    absl::Status st = scheduler_->Add(r->seq);
    Sequence* key = r->seq.get();
    requests_[key] = std::move(r);
    if (!st.ok()) Finish(*requests_[key], FinishReason::kError, st);
  }
}

void Engine::Finish(Request& r, FinishReason reason, absl::Status error) {
  TokenEvent ev;
  ev.finished = true;
  ev.finish_reason = reason;
  ev.error = std::move(error);
  ev.prompt_tokens = r.seq->prompt_len;
  ev.cached_tokens = r.seq->num_cached_prompt;
  ev.completion_tokens = r.seq->num_generated();
  PublishLoad();
  r.callback(ev);
  const uint64_t id = r.seq->id;
  requests_.erase(r.seq.get());  // Destroys r.
  std::lock_guard<std::mutex> lock(mu_);
  live_.erase(id);
}

void Engine::PublishLoad() {
  EngineLoad load;
  {
    std::lock_guard<std::mutex> lock(mu_);
    load_.running = scheduler_->num_running();
    load_.waiting = scheduler_->num_waiting();
    load_.blocks_used = allocator_->num_used();
    load_.prefix_cache_hits = scheduler_->prefix_cache().hits();
    load_.prefix_cache_queries = scheduler_->prefix_cache().queries();
    load_.outstanding_tokens = scheduler_->outstanding_tokens();
    load = load_;
  }
  if (options_.on_load) options_.on_load(load);
}

void Engine::FailStep(const StepSchedule& plan, const absl::Status& error) {
  LOG(ERROR) << "model step failed for " << plan.sequences.size() << " sequences: " << error;
  for (const ScheduledSequence& s : plan.sequences) {
    scheduler_->Finish(s.seq, FinishReason::kError);
    Finish(*requests_.at(s.seq), FinishReason::kError, error);
  }
}

void Engine::AddStepListener(std::weak_ptr<const std::function<void()>> listener) {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  listeners_.push_back(std::move(listener));
}

void Engine::NotifyStepListeners() {
  std::vector<std::shared_ptr<const std::function<void()>>> live;
  {
    std::lock_guard<std::mutex> lock(listeners_mu_);
    if (listeners_.empty()) return;
    std::erase_if(listeners_, [](const auto& l) { return l.expired(); });
    for (const auto& l : listeners_) {
      if (auto f = l.lock()) live.push_back(std::move(f));
    }
  }
  for (const auto& f : live) (*f)();
}

bool Engine::Step() {
  step_started_nanos_ = NowNanos();
  // Every return below, the failed steps' included.
  absl::Cleanup notify = [this] { NotifyStepListeners(); };
  Admit();
  StepSchedule plan = scheduler_->Schedule();
  // The step's sequences count as running from now on, not from the step's end: a request
  // that saw its first token must not still count as waiting (and fill the queue's limit).
  PublishLoad();
  for (const auto& seq : plan.cancelled) Finish(*requests_.at(seq.get()), FinishReason::kCancelled);
  bool did_work = !plan.cancelled.empty();
  if (!plan.empty()) {
    did_work = true;
    std::vector<SequenceStep> steps;
    steps.reserve(plan.sequences.size());
    const int64_t step_start = NowNanos();
    for (const ScheduledSequence& s : plan.sequences) {
      if (s.seq->first_scheduled_nanos == 0) s.seq->first_scheduled_nanos = step_start;
      SequenceStep step;
      step.tokens.assign(s.seq->tokens.begin() + s.start,
                         s.seq->tokens.begin() + s.start + s.num_tokens);
      step.num_cached = s.start;
      step.block_table = s.seq->blocks;
      steps.push_back(std::move(step));
    }
    at::Tensor logits;
    try {
      c10::InferenceMode guard;
      auto inputs = BuildStepInputs(steps, options_.scheduler.block_size, options_.model.device);
      if (!inputs.ok()) {
        FailStep(plan, inputs.status());
        return true;
      }
      logits = model_->Forward(inputs->tokens, inputs->positions, inputs->metadata, *kv_cache_)
                   .to(at::kCPU, at::kFloat)
                   .contiguous();
    } catch (const std::exception& ex) {
      FailStep(plan, absl::InternalError(absl::StrCat("model step failed: ", ex.what())));
      return true;
    }
    if (options_.on_step) {
      options_.on_step(StepStats{(NowNanos() - step_start) * 1e-9,
                                 static_cast<int32_t>(plan.sequences.size()), plan.num_tokens});
    }
    const int64_t vocab = logits.size(1);
    std::vector<float>& row = logits_row_;
    for (size_t i = 0; i < plan.sequences.size(); ++i) {
      const ScheduledSequence& s = plan.sequences[i];
      if (!s.samples) continue;
      Request& r = *requests_.at(s.seq);
      const float* src = logits.data_ptr<float>() + i * vocab;
      row.assign(src, src + vocab);
      SampleResult sample = r.sampler.Sample(absl::MakeSpan(row));
      s.seq->tokens.push_back(sample.token);
      r.sampler.Accept(sample.token);
      TokenEvent ev;
      ev.has_token = true;
      ev.token = sample.token;
      ev.logprob = sample.logprob;
      ev.top_logprobs = std::move(sample.top);
      if (s.seq->num_generated() == 1) {
        ev.queue_nanos = s.seq->first_scheduled_nanos - s.seq->submitted_nanos;
      }
      const FinishReason reason = CheckStop(*s.seq, r.stopping);
      if (reason == FinishReason::kNone) {
        r.callback(ev);
        continue;
      }
      ev.finished = true;
      ev.finish_reason = reason;
      ev.prompt_tokens = s.seq->prompt_len;
      ev.cached_tokens = s.seq->num_cached_prompt;
      ev.completion_tokens = s.seq->num_generated();
      scheduler_->Finish(s.seq, reason);
      PublishLoad();
      r.callback(ev);
      const uint64_t id = s.seq->id;
      requests_.erase(s.seq);
      std::lock_guard<std::mutex> lock(mu_);
      live_.erase(id);
    }
  }
  PublishLoad();
  last_step_nanos_ = NowNanos();
  return did_work || !scheduler_->idle();
}

void Engine::Loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    if (Step()) continue;
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait(lock, [&] { return stopping_ || !inbox_.empty(); });
  }
}

void Engine::Start() {
  if (!loop_.joinable()) loop_ = std::thread([this] { Loop(); });
}

void Engine::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (loop_.joinable()) loop_.join();
}

absl::Status Engine::WarmUp() {
  GenerateParams p;
  p.prompt = {eos_ids_.empty() ? 0 : eos_ids_.front()};
  if (config_.bos_token_id) p.prompt = {*config_.bos_token_id};
  p.sampling.temperature = 0;
  p.stopping.max_new_tokens = 1;
  p.stopping.ignore_eos = true;
  absl::Status result = absl::InternalError("warm-up did not finish");
  bool done = false;
  RETURN_IF_ERROR(Submit(p, [&](const TokenEvent& ev) {
                    if (!ev.finished) return;
                    done = true;
                    result = ev.error;
                  }).status());
  for (int i = 0; i < 16 && !done; ++i) Step();
  return result;
}

EngineLoad Engine::load() const {
  std::lock_guard<std::mutex> lock(mu_);
  EngineLoad load = load_;
  load.waiting += static_cast<int32_t>(inbox_.size());
  for (const auto& r : inbox_) load.outstanding_tokens += r->seq->num_outstanding();
  return load;
}

}  // namespace sllm::worker
