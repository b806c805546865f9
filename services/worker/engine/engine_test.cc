// The engine on the bundled stories260K model (float32): reference parity through the real
// batching path, batch invariance, seeded sampling, cancellation and request errors.
#include "services/worker/engine/engine.h"

#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sllm::worker {
namespace {

const std::string kModelDir = std::string(SLLM_MODELS_DIR) + "/stories260K";

struct Output {
  std::vector<int64_t> tokens;
  FinishReason reason = FinishReason::kNone;
  absl::Status error;
  bool done = false;
  int32_t cached = 0;
};

// SLLM_TEST_DEVICE=cuda:0 runs these tests on a GPU (float32: the same exact references).
c10::Device TestDevice() {
  const char* d = std::getenv("SLLM_TEST_DEVICE");
  auto device = ParseDevice(d != nullptr ? d : "cpu");
  EXPECT_TRUE(device.ok()) << device.status();
  return device.ok() ? *device : c10::Device(c10::DeviceType::CPU);
}

std::unique_ptr<Engine> MakeEngine(int32_t budget = 512, int64_t kv_tokens = 0) {
  EngineOptions o;
  o.num_threads = 1;
  o.model.device = TestDevice();
  o.scheduler.block_size = 8;
  o.scheduler.max_num_batched_tokens = budget;
  o.kv_cache_tokens = kv_tokens;
  auto e = Engine::Create(kModelDir, o);
  EXPECT_TRUE(e.ok()) << e.status();
  return std::move(*e);
}

uint64_t Submit(Engine& e, std::vector<int64_t> prompt, int32_t max_new, Output& out,
                SamplingParams sampling = {.temperature = 0}) {
  GenerateParams p;
  p.prompt = std::move(prompt);
  p.sampling = sampling;
  p.stopping.max_new_tokens = max_new;
  auto id = e.Submit(std::move(p), [&out](const TokenEvent& ev) {
    if (ev.has_token) out.tokens.push_back(ev.token);
    if (ev.finished) {
      out.done = true;
      out.reason = ev.finish_reason;
      out.error = ev.error;
      out.cached = ev.cached_tokens;
    }
  });
  EXPECT_TRUE(id.ok()) << id.status();
  return id.ok() ? *id : 0;
}

void RunUntilDone(Engine& e, const std::vector<Output*>& outs) {
  for (int i = 0; i < 10000; ++i) {
    bool all = true;
    for (Output* o : outs) all = all && o->done;
    if (all) return;
    e.Step();
  }
  FAIL() << "requests did not finish";
}

struct Reference {
  std::vector<int64_t> prompt;
  std::vector<int64_t> generated;
};

std::vector<Reference> LoadReferences() {
  std::ifstream in(kModelDir + "/reference/greedy_reference.json");
  const auto j = nlohmann::json::parse(in);
  std::vector<Reference> refs;
  for (const auto& c : j["cases"]) {
    const auto ids = c["ids"].get<std::vector<int64_t>>();
    const int n = c["n_prompt"].get<int>();
    refs.push_back({{ids.begin(), ids.begin() + n}, {ids.begin() + n, ids.end()}});
  }
  return refs;
}

TEST(EngineTest, GreedyMatchesLlama2cThroughTheBatchedPath) {
  auto e = MakeEngine();
  const auto refs = LoadReferences();
  std::vector<Output> outs(refs.size());
  std::vector<Output*> ptrs;
  for (size_t i = 0; i < refs.size(); ++i) {
    Submit(*e, refs[i].prompt, static_cast<int32_t>(refs[i].generated.size()), outs[i]);
    ptrs.push_back(&outs[i]);
  }
  RunUntilDone(*e, ptrs);
  for (size_t i = 0; i < refs.size(); ++i) {
    EXPECT_EQ(outs[i].tokens, refs[i].generated) << "case " << i;
    EXPECT_EQ(outs[i].reason, FinishReason::kLength);
  }
}

TEST(EngineTest, BatchInvarianceWithStaggeredJoinsAndChunkedPrefill) {
  const auto refs = LoadReferences();
  std::vector<std::vector<int64_t>> prompts;
  for (const auto& r : refs) prompts.push_back(r.prompt);
  // Five more prompts: reference continuations cut at different lengths (long ones get
  // chunked with the small budget below).
  for (int len : {9, 17, 23, 31, 40}) {
    const auto& r = refs[len % refs.size()];
    std::vector<int64_t> p = r.prompt;
    p.insert(p.end(), r.generated.begin(), r.generated.begin() + len);
    prompts.push_back(p);
  }
  // Alone, one at a time.
  std::vector<std::vector<int64_t>> alone;
  {
    auto e = MakeEngine();
    for (const auto& p : prompts) {
      Output o;
      Submit(*e, p, 24, o);
      RunUntilDone(*e, {&o});
      alone.push_back(o.tokens);
    }
  }
  // Together, joining at different steps, with an 8-token step budget.
  auto e = MakeEngine(/*budget=*/8);
  std::vector<Output> outs(prompts.size());
  std::vector<Output*> ptrs;
  for (size_t i = 0; i < prompts.size(); ++i) {
    Submit(*e, prompts[i], 24, outs[i]);
    ptrs.push_back(&outs[i]);
    for (size_t k = 0; k < i % 3; ++k) e->Step();
  }
  RunUntilDone(*e, ptrs);
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(outs[i].tokens, alone[i]) << "prompt " << i;
}

TEST(EngineTest, SeededSamplingIsReproducibleWhateverTheBatch) {
  SamplingParams s;
  s.temperature = 1.0f;
  s.top_p = 0.9f;
  s.seed = 1234;
  const auto refs = LoadReferences();
  auto e = MakeEngine();
  Output alone;
  Submit(*e, refs[0].prompt, 30, alone, s);
  RunUntilDone(*e, {&alone});
  Output a, b, c;
  Submit(*e, refs[1].prompt, 30, b, {.temperature = 0.8f});
  Submit(*e, refs[0].prompt, 30, a, s);
  Submit(*e, refs[2].prompt, 30, c, {.temperature = 1.2f, .seed = 5});
  RunUntilDone(*e, {&a, &b, &c});
  EXPECT_EQ(a.tokens, alone.tokens);
  EXPECT_NE(b.tokens, c.tokens);
}

TEST(EngineTest, CancelFreesTheSequenceAtTheNextStep) {
  auto e = MakeEngine();
  Output o;
  const uint64_t id = Submit(*e, {1, 403, 407, 261, 378}, 200, o);
  for (int i = 0; i < 5; ++i) e->Step();
  EXPECT_EQ(e->load().running, 1);
  e->Cancel(id);
  e->Step();
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.reason, FinishReason::kCancelled);
  EXPECT_EQ(e->load().running, 0);
  EXPECT_EQ(o.tokens.size(), 5u);
}

TEST(EngineTest, StepListenersRunAfterTheStepsEventsWhileTheyLive) {
  auto e = MakeEngine();
  Output a, b;
  Submit(*e, {1, 403, 407}, 3, a);
  Submit(*e, {1, 261, 378}, 3, b);
  // What each run of the listener saw: the tokens delivered by then.
  std::vector<size_t> seen;
  auto listener = std::make_shared<const std::function<void()>>(
      [&] { seen.push_back(a.tokens.size() + b.tokens.size()); });
  e->AddStepListener(listener);
  e->Step();  // Both prompts and their first tokens.
  e->Step();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], 2u);  // After both sequences' events, not between them.
  EXPECT_EQ(seen[1], 4u);
  listener.reset();
  e->Step();
  EXPECT_TRUE(a.done && b.done);
  EXPECT_EQ(seen.size(), 2u);  // Gone: not called any more.
}

TEST(EngineTest, ASubmittedRequestCountsAsWaitingBeforeTheNextStep) {
  auto e = MakeEngine();
  Output o;
  Submit(*e, {1, 403, 407}, 4, o);
  // Accepted but not yet admitted by a step: a router asking for the load must see it.
  EXPECT_EQ(e->load().waiting, 1);
  EXPECT_EQ(e->load().running, 0);
  EXPECT_EQ(e->load().outstanding_tokens, 3 + 4);  // Its prompt and its max_new_tokens.
  e->Step();  // Computes the prompt and samples the first token.
  EXPECT_EQ(e->load().waiting, 0);
  EXPECT_EQ(e->load().running, 1);
  EXPECT_EQ(e->load().outstanding_tokens, 3);  // Three tokens to go.
  RunUntilDone(*e, {&o});
  EXPECT_EQ(e->load().waiting + e->load().running, 0);
  EXPECT_EQ(e->load().outstanding_tokens, 0);
}

TEST(EngineTest, ARequestInItsFirstStepCountsInTheLoad) {
  auto e = MakeEngine();
  // Read from the request's own first event: inside the step that admitted it, before the
  // step's end publishes the load again.
  int32_t running = -1, waiting = -1;
  GenerateParams p;
  p.prompt = {1, 403, 407};
  p.sampling.temperature = 0;
  p.stopping.max_new_tokens = 2;  // The first event is not the last (that one drops the load).
  ASSERT_TRUE(e->Submit(std::move(p), [&](const TokenEvent&) {
                 if (running >= 0) return;
                 running = e->load().running;
                 waiting = e->load().waiting;
               }).ok());
  while (e->Step()) {
  }
  // Running, and no longer waiting: a client that has its first token may submit another
  // request to a queue of one.
  EXPECT_EQ(running, 1);
  EXPECT_EQ(waiting, 0);
}

TEST(EngineTest, TheContextIsCappedAtWhatTheCacheHolds) {
  auto e = MakeEngine(/*budget=*/512, /*kv_tokens=*/64);
  EXPECT_EQ(e->max_model_len(), 64);  // stories260K's own context is 512.
  GenerateParams p;
  p.prompt = std::vector<int64_t>(64, 5);
  p.stopping.max_new_tokens = 4;
  EXPECT_EQ(e->Submit(std::move(p), [](const TokenEvent&) {}).status().message(),
            "prompt_ids has 64 tokens; the context length is 64 and at least one token must "
            "be generated");
}

TEST(EngineTest, TheLoadDropsAFinishedRequestBeforeItsLastEvent) {
  EngineOptions o;
  o.num_threads = 1;
  o.model.device = TestDevice();
  std::vector<EngineLoad> loads;
  o.on_load = [&loads](const EngineLoad& l) { loads.push_back(l); };
  auto e = Engine::Create(kModelDir, o);
  ASSERT_TRUE(e.ok()) << e.status();
  Output a, b;
  std::vector<int32_t> running_at_a_end, running_at_b_end;
  GenerateParams p;
  p.prompt = {1, 403, 407};
  p.sampling.temperature = 0;
  p.stopping.max_new_tokens = 3;
  p.stopping.ignore_eos = true;
  GenerateParams q = p;
  q.stopping.max_new_tokens = 6;
  ASSERT_TRUE((*e)->Submit(p, [&](const TokenEvent& ev) {
                 if (ev.finished) running_at_a_end.push_back(loads.back().running);
                 a.done = a.done || ev.finished;
               }).ok());
  ASSERT_TRUE((*e)->Submit(q, [&](const TokenEvent& ev) {
                 if (ev.finished) running_at_b_end.push_back(loads.back().running);
                 b.done = b.done || ev.finished;
               }).ok());
  RunUntilDone(**e, {&a, &b});
  // Both ran together; each one's last event comes after a load that no longer counts it.
  EXPECT_EQ(running_at_a_end, std::vector<int32_t>{1});
  EXPECT_EQ(running_at_b_end, std::vector<int32_t>{0});
  EXPECT_EQ((*e)->load().running, 0);
  EXPECT_EQ(loads.back().blocks_used, (*e)->load().blocks_used);
}

TEST(EngineTest, RequestErrorsNameFieldLimitAndValue) {
  auto e = MakeEngine();
  auto submit = [&](std::vector<int64_t> prompt, int32_t max_new, float temperature) {
    GenerateParams p;
    p.prompt = std::move(prompt);
    p.stopping.max_new_tokens = max_new;
    p.sampling.temperature = temperature;
    return e->Submit(std::move(p), [](const TokenEvent&) {}).status();
  };
  EXPECT_EQ(submit({}, 4, 0).message(), "prompt_ids must not be empty");
  EXPECT_EQ(submit({1, 512}, 4, 0).message(),
            "prompt_ids[1] must be < 512 (the vocabulary size), got 512");
  EXPECT_EQ(submit(std::vector<int64_t>(512, 5), 4, 0).message(),
            "prompt_ids has 512 tokens; the context length is 512 and at least one token must "
            "be generated");
  EXPECT_EQ(submit({1}, 0, 0).message(), "max_new_tokens must be >= 1, got 0");
  EXPECT_EQ(submit({1}, 4, -1).message(), "temperature must be a finite number >= 0, got -1");
  EXPECT_TRUE(e->WarmUp().ok());
}

}  // namespace
}  // namespace sllm::worker
