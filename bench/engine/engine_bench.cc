#include "bench/engine/engine_bench.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sllm::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct RunTimes {
  double prefill_seconds = 0;
  double decode_seconds = 0;
  int64_t decode_steps = 0;
  std::vector<double> step_seconds;
};

// One run: submits the batch, then steps until every sequence has finished. Steps until every
// sequence has its first token are prefill; the rest are decode.
absl::StatusOr<RunTimes> RunOnce(worker::Engine& engine, const EngineBenchOptions& o,
                                 std::mt19937_64& rng) {
  const int64_t vocab = engine.config().vocab_size;
  std::uniform_int_distribution<int64_t> token(0, vocab - 1);
  int32_t first_tokens = 0, finished = 0, generated = 0;
  absl::Status error;
  for (int32_t b = 0; b < o.batch; ++b) {
    worker::GenerateParams p;
    p.prompt.resize(o.prompt_len);
    for (auto& t : p.prompt) t = token(rng);
    p.sampling.temperature = 0;
    p.stopping.max_new_tokens = o.gen_len;
    p.stopping.ignore_eos = true;
    auto id = engine.Submit(std::move(p), [&, seen = false](const worker::TokenEvent& ev) mutable {
      if (ev.has_token) {
        ++generated;
        if (!seen) ++first_tokens;
        seen = true;
      }
      if (ev.finished) {
        ++finished;
        if (!ev.error.ok()) error = ev.error;
      }
    });
    if (!id.ok()) return id.status();
  }
  RunTimes t;
  bool prefill = true;
  while (finished < o.batch) {
    const auto start = Clock::now();
    if (!engine.Step()) return absl::InternalError("the engine stopped stepping");
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    if (prefill) {
      t.prefill_seconds += s;
      prefill = first_tokens < o.batch;
    } else {
      t.decode_seconds += s;
      t.step_seconds.push_back(s);
      ++t.decode_steps;
    }
  }
  if (!error.ok()) return error;
  if (generated != o.batch * o.gen_len) {
    return absl::InternalError(absl::StrCat("generated ", generated, " tokens, expected ",
                                            o.batch * o.gen_len));
  }
  return t;
}

}  // namespace

absl::StatusOr<EngineBenchResult> RunEngineBench(worker::Engine& engine,
                                                 const EngineBenchOptions& o) {
  if (o.prompt_len < 1 || o.gen_len < 2 || o.batch < 1 || o.repetitions < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "prompt_len >= 1, gen_len >= 2, batch >= 1 and repetitions >= 1 are required, got ",
        o.prompt_len, ", ", o.gen_len, ", ", o.batch, ", ", o.repetitions));
  }
  std::mt19937_64 rng(o.seed);
  if (auto warm = RunOnce(engine, o, rng); !warm.ok()) return warm.status();
  std::vector<double> prefill, decode, step;
  for (int32_t r = 0; r < o.repetitions; ++r) {
    auto t = RunOnce(engine, o, rng);
    if (!t.ok()) return t.status();
    prefill.push_back(static_cast<double>(o.batch) * o.prompt_len / t->prefill_seconds);
    decode.push_back(static_cast<double>(o.batch) * (o.gen_len - 1) / t->decode_seconds);
    step.push_back(t->decode_seconds / t->decode_steps);
  }
  EngineBenchResult result;
  result.prefill_tokens_per_s = Median(prefill);
  result.decode_tokens_per_s = Median(decode);
  result.decode_step_ms = Median(step) * 1e3;
  result.weight_bytes_per_step = engine.model().DecodeWeightBytes();
  result.weight_bytes_per_s = result.weight_bytes_per_step / Median(step);
  result.model_bytes = engine.model().WeightBytes();
  return result;
}

}  // namespace sllm::bench
