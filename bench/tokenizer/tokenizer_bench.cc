// sllm-tokenizer-bench: encode throughput of the sllm tokenizer on a corpus of JSON-string lines.
//   sllm-tokenizer-bench --model DIR --corpus a.jsonl,b.jsonl [--mode line|batch] [--threads N]
// Prints one JSON object: bytes, tokens, seconds, MB/s, tokens/s (wall clock, after a warm-up
// pass that also fills the BPE cache as a long-running service would have it).
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/str_split.h"
#include "gflags/gflags.h"
#include "nlohmann/json.hpp"
#include "services/tokenizer/tokenizer.h"

DEFINE_string(model, "", "Folder with tokenizer.json");
DEFINE_string(corpus, "", "Comma-separated JSONL files, one JSON string a line");
DEFINE_string(mode, "line", "line: one Encode call per line; batch: lines split over --threads");
DEFINE_int32(threads, 1, "Threads for --mode batch");
DEFINE_int32(repeat, 3, "Timed passes over the corpus (best pass is reported)");
DEFINE_bool(no_special, true, "Encode without special tokens");

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  using Clock = std::chrono::steady_clock;
  const auto t_load = Clock::now();
  auto tok = sllm::tokenizer::Tokenizer::FromFile(FLAGS_model + "/tokenizer.json");
  if (!tok.ok()) {
    std::cerr << tok.status() << "\n";
    return 1;
  }
  const double load_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - t_load).count();
  std::vector<std::string> lines;
  size_t bytes = 0;
  for (absl::string_view file : absl::StrSplit(FLAGS_corpus, ',', absl::SkipEmpty())) {
    std::ifstream in{std::string(file)};
    std::string line;
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      lines.push_back(nlohmann::json::parse(line).get<std::string>());
      bytes += lines.back().size();
    }
  }
  const sllm::tokenizer::EncodeOptions options{.add_special_tokens = !FLAGS_no_special};
  auto encode_range = [&](size_t begin, size_t end, size_t& tokens) {
    for (size_t i = begin; i < end; ++i) tokens += (*tok)->Encode(lines[i], options)->ids.size();
  };
  auto pass = [&]() -> std::pair<double, size_t> {
    const auto t0 = Clock::now();
    size_t tokens = 0;
    if (FLAGS_mode == "batch" && FLAGS_threads > 1) {
      std::vector<std::thread> workers;
      std::vector<size_t> counts(FLAGS_threads, 0);
      const size_t per = (lines.size() + FLAGS_threads - 1) / FLAGS_threads;
      for (int t = 0; t < FLAGS_threads; ++t) {
        const size_t b = std::min(lines.size(), t * per), e = std::min(lines.size(), b + per);
        workers.emplace_back([&, t, b, e] { encode_range(b, e, counts[t]); });
      }
      for (auto& w : workers) w.join();
      for (size_t c : counts) tokens += c;
    } else {
      encode_range(0, lines.size(), tokens);
    }
    return {std::chrono::duration<double>(Clock::now() - t0).count(), tokens};
  };
  pass();  // Warm-up.
  double best = 1e30;
  size_t tokens = 0;
  for (int r = 0; r < FLAGS_repeat; ++r) {
    auto [secs, n] = pass();
    best = std::min(best, secs);
    tokens = n;
  }
  nlohmann::json out = {{"impl", "sllm"},           {"model", FLAGS_model},
                        {"mode", FLAGS_mode},        {"threads", FLAGS_threads},
                        {"lines", lines.size()},     {"utf8_bytes", bytes},
                        {"tokens", tokens},          {"seconds", best},
                        {"load_ms", load_ms},        {"MB_per_s", bytes / 1e6 / best},
                        {"tokens_per_s", tokens / best}};
  std::cout << out.dump() << std::endl;
  return 0;
}
