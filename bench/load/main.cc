// sllm-loadgen: streaming load on the gateway (gRPC or OpenAI HTTP) or on one worker shard;
// TTFT, ITL, TPOT and e2e percentiles, throughputs and errors. See bench/README.md.
#include <fstream>
#include <iostream>

#include "bench/load/loadgen.h"
#include "gflags/gflags.h"

DEFINE_string(target, "",
              "grpc://HOST:PORT (gateway, sllm.v1.Generation GenerateStream), http://HOST:PORT "
              "(gateway, OpenAI /v1/completions with stream: true) or worker://HOST:PORT (one "
              "worker shard, WorkerService.Generate: token-id prompts only)");
DEFINE_string(model, "", "Model name (default: the first one the target serves)");
DEFINE_string(tokenizer, "",
              "Folder with tokenizer.json: synthetic prompts become text of exactly "
              "--prompt-len tokens (BOS included) and text prompts get their ids for worker://. "
              "Without it synthetic prompts are random token ids");
DEFINE_uint32(vocab_size, 0,
              "Synthetic ids are drawn below this (default: the vocabulary size the target "
              "reports; http:// reports none, so give this or --tokenizer there)");
DEFINE_string(prompt_len, "64", "Prompt tokens: N, or MIN:MAX drawn uniformly");
DEFINE_string(output_len, "128",
              "Output tokens: N, or MIN:MAX drawn uniformly (sent as max tokens with "
              "ignore_eos, so outputs have exactly this length)");
DEFINE_string(prompts, "",
              "JSON lines, each {\"prompt\": \"text\"} or {\"prompt_ids\": [...]} with an "
              "optional \"output_len\"; used in turn instead of synthetic prompts");
DEFINE_string(prompt_format, "auto",
              "Gateway prompts as text or ids; auto: each prompt's text when it has text");
DEFINE_int32(concurrency, 1,
             "Clients sending back to back; with --rate, the most requests in flight (default "
             "there: 64)");
DEFINE_double(rate, 0, "Poisson arrivals, requests per second (0: closed loop at --concurrency)");
DEFINE_int64(num_requests, 100, "Requests to measure (0: as many as --duration allows)");
DEFINE_double(duration, 0, "Stop sending new requests after this many seconds (0: no limit)");
DEFINE_int32(warmup, 0,
             "Requests sent first and not measured (synthetic prompts of their own seed, or the "
             "first lines of --prompts)");
DEFINE_uint64(seed, 0, "Seed of prompts, lengths, arrivals and sampling");
DEFINE_double(temperature, 0, "Sampling temperature (0: greedy)");
DEFINE_double(timeout, 600, "Deadline of each request, seconds");
DEFINE_string(json, "", "Write the report (config included) to this file as one JSON object");
DEFINE_string(label, "", "Free text stored in the report's config (commit, machine)");

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "sllm-loadgen --target grpc://HOST:PORT|http://HOST:PORT|worker://HOST:PORT\n"
      "  [--concurrency N | --rate R] [--num-requests N] [--duration S]\n"
      "  [--prompt-len N|MIN:MAX] [--output-len N|MIN:MAX] [--prompts FILE.jsonl]\n"
      "  [--tokenizer DIR] [--json FILE] [--label TEXT]\n"
      "Every request asks for ignore_eos with max tokens = its output length, greedy unless "
      "--temperature.");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_target.empty()) {
    std::cerr << "sllm-loadgen: --target is required (see --help)\n";
    return 2;
  }
  sllm::loadgen::LoadgenOptions o;
  o.target = FLAGS_target;
  o.model = FLAGS_model;
  o.tokenizer = FLAGS_tokenizer;
  o.vocab_size = FLAGS_vocab_size;
  o.prompt_len = FLAGS_prompt_len;
  o.output_len = FLAGS_output_len;
  o.prompts_file = FLAGS_prompts;
  o.prompt_format = FLAGS_prompt_format;
  o.concurrency = FLAGS_concurrency;
  if (FLAGS_rate > 0 && gflags::GetCommandLineFlagInfoOrDie("concurrency").is_default) {
    o.concurrency = 64;  // Open loop: arrivals must not wait for one client.
  }
  o.rate = FLAGS_rate;
  o.num_requests = FLAGS_num_requests;
  o.duration_s = FLAGS_duration;
  o.warmup = FLAGS_warmup;
  o.seed = FLAGS_seed;
  o.temperature = FLAGS_temperature;
  o.timeout_s = FLAGS_timeout;
  o.label = FLAGS_label;
  auto run = sllm::loadgen::RunLoadgen(o);
  if (!run.ok()) {
    std::cerr << "sllm-loadgen: " << run.status().message() << "\n";
    return run.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  sllm::loadgen::PrintReport(run->report, std::cout);
  if (!FLAGS_json.empty()) {
    std::ofstream out(FLAGS_json);
    out << sllm::loadgen::ReportJson(run->report) << "\n";
    if (!out) {
      std::cerr << "sllm-loadgen: cannot write " << FLAGS_json << "\n";
      return 1;
    }
  }
  return 0;
}
