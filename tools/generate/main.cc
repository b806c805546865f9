// sllm-generate: runs the real engine (continuous batching) on JSON lines, like llama.cpp's
// llama-simple. All input lines are submitted together; output lines come in input order.
//   sllm-generate --model DIR [--device cpu] [--dtype float32] [sampling flags] < requests.jsonl
// Input line: {"prompt_ids": [...], "max_new_tokens": N, "ignore_eos": false}
//         or  {"prompt": "text", ...} (tokenized with the folder's tokenizer, BOS as it adds it).
// Output line: {"ids": [generated ids], "finish_reason": "eos|length|stop|error"[, "error"]}.
#include <iostream>
#include <thread>
#include <string>
#include <vector>

#include "gflags/gflags.h"
#include "glog/logging.h"
#include "nlohmann/json.hpp"
#include "services/hub/model_dir.h"
#include "services/tokenizer/model_tokenizer.h"
#include "services/worker/engine/engine.h"

DEFINE_string(model, "", "Hugging Face model folder, or hub id org/name[@revision]");
DEFINE_string(device, "cpu", "cpu or cuda:N");
DEFINE_string(dtype, "float32", "Serving dtype: float32, bfloat16, float16");
DEFINE_string(quantize, "none",
              "Weight-only quantization of the linear layers at load: none, int8 (like Q8_0) "
              "or int4 (like Q4_0); CPU only");
DEFINE_int32(threads, 0, "Intra-op threads (0: all cores)");
DEFINE_int32(max_new_tokens, 64, "Default max_new_tokens for lines that do not set it");
DEFINE_double(temperature, 0.0, "Sampling temperature (0: greedy)");
DEFINE_double(top_p, 1.0, "Nucleus sampling mass");
DEFINE_int32(top_k, 0, "Top-k (0: off)");
DEFINE_double(min_p, 0.0, "Min-p (0: off)");
DEFINE_double(repetition_penalty, 1.0, "Repetition penalty (1: off)");
DEFINE_int64(seed, -1, "Seed for every line (-1: none)");
DEFINE_int32(max_num_batched_tokens, 512, "Tokens per engine step");
DEFINE_int32(block_size, 16, "KV cache block size in tokens");

namespace {

using Json = nlohmann::json;
using sllm::worker::FinishReason;

struct Line {
  std::vector<int64_t> ids;
  bool done = false;
  FinishReason reason = FinishReason::kNone;
  std::string error;
};

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  if (FLAGS_model.empty()) {
    std::cerr << "sllm-generate: --model DIR is required\n";
    return 2;
  }
  sllm::worker::EngineOptions options;
  auto dtype = sllm::worker::ParseServingDType(FLAGS_dtype);
  auto device = sllm::worker::ParseDevice(FLAGS_device);
  auto quantize = sllm::worker::ParseQuantize(FLAGS_quantize);
  if (!dtype.ok() || !device.ok() || !quantize.ok()) {
    std::cerr << "sllm-generate: "
              << (!dtype.ok() ? dtype.status() : !device.ok() ? device.status() : quantize.status())
              << "\n";
    return 2;
  }
  options.model.dtype = *dtype;
  options.model.device = *device;
  options.model.quantize = *quantize;
  options.num_threads = FLAGS_threads > 0 ? FLAGS_threads
                                          : static_cast<int32_t>(std::thread::hardware_concurrency());
  options.scheduler.max_num_batched_tokens = FLAGS_max_num_batched_tokens;
  options.scheduler.block_size = FLAGS_block_size;
  auto model_dir = sllm::hub::ResolveModelDir(FLAGS_model);
  if (!model_dir.ok()) {
    std::cerr << "sllm-generate: " << model_dir.status().message() << "\n";
    return 1;
  }
  auto engine = sllm::worker::Engine::Create(*model_dir, options);
  if (!engine.ok()) {
    std::cerr << "sllm-generate: " << engine.status() << "\n";
    return 1;
  }
  std::unique_ptr<sllm::tokenizer::ModelTokenizer> tokenizer;  // Loaded on first text prompt.

  std::vector<std::string> inputs;
  std::string text;
  while (std::getline(std::cin, text)) {
    if (text.find_first_not_of(" \t\r") != std::string::npos) inputs.push_back(text);
  }
  std::vector<Line> lines(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    Line& line = lines[i];
    auto fail = [&](const std::string& message) {
      line.done = true;
      line.reason = FinishReason::kError;
      line.error = message;
    };
    Json j = Json::parse(inputs[i], nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
      fail("input line is not a JSON object");
      continue;
    }
    sllm::worker::GenerateParams p;
    if (j.contains("prompt_ids") && j["prompt_ids"].is_array()) {
      for (const auto& v : j["prompt_ids"]) {
        if (!v.is_number_integer()) break;
        p.prompt.push_back(v.get<int64_t>());
      }
      if (p.prompt.size() != j["prompt_ids"].size()) {
        fail("prompt_ids must be an array of integers");
        continue;
      }
    } else if (j.contains("prompt") && j["prompt"].is_string()) {
      if (!tokenizer) {
        auto t = sllm::tokenizer::ModelTokenizer::Load("model", *model_dir);
        if (!t.ok()) {
          fail(std::string(t.status().message()));
          continue;
        }
        tokenizer = std::move(*t);
      }
      auto enc = tokenizer->tokenizer().Encode(j["prompt"].get<std::string>(), {});
      if (!enc.ok()) {
        fail(std::string(enc.status().message()));
        continue;
      }
      p.prompt.assign(enc->ids.begin(), enc->ids.end());
    } else {
      fail("a line needs prompt_ids (array) or prompt (string)");
      continue;
    }
    p.stopping.max_new_tokens = j.value("max_new_tokens", FLAGS_max_new_tokens);
    p.stopping.ignore_eos = j.value("ignore_eos", false);
    p.sampling.temperature = static_cast<float>(FLAGS_temperature);
    p.sampling.top_p = static_cast<float>(FLAGS_top_p);
    p.sampling.top_k = FLAGS_top_k;
    p.sampling.min_p = static_cast<float>(FLAGS_min_p);
    p.sampling.repetition_penalty = static_cast<float>(FLAGS_repetition_penalty);
    if (FLAGS_seed >= 0) p.sampling.seed = static_cast<uint64_t>(FLAGS_seed);
    auto id = (*engine)->Submit(std::move(p), [&line](const sllm::worker::TokenEvent& ev) {
      if (ev.has_token) line.ids.push_back(ev.token);
      if (!ev.finished) return;
      line.done = true;
      line.reason = ev.finish_reason;
      if (!ev.error.ok()) line.error = std::string(ev.error.message());
    });
    if (!id.ok()) fail(std::string(id.status().message()));
  }
  // All lines run together through the engine's continuous batching.
  auto pending = [&] {
    for (const Line& l : lines) {
      if (!l.done) return true;
    }
    return false;
  };
  while (pending()) (*engine)->Step();
  for (const Line& l : lines) {
    Json out = {{"ids", l.ids}, {"finish_reason", sllm::worker::FinishReasonName(l.reason)}};
    if (!l.error.empty()) out["error"] = l.error;
    std::cout << out.dump() << "\n";
  }
  return 0;
}
