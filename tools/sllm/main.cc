// sllm: the command-line front of the cluster.
//   sllm up [--model DIR|ORG/NAME[@REV][,...]] [--workers N] [--grpc-port P] [--http-port P]
//                                     start a local cluster, stream a reply, run until Ctrl-C
//   sllm generate "prompt" [--target HOST:PORT] [--model M] [sampling flags] [--json]
//   sllm chat --model M [--target HOST:PORT]                  interactive, keeps history, /reset
// generate/chat reach a TLS gateway with --gateway_tls_ca (and --gateway_tls_cert/_key when it
// requires client certificates).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gflags/gflags.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "sllm/v1/generation.grpc.pb.h"
#include "services/common/tls_credentials.h"
#include "services/hub/model_dir.h"
#include "tools/sllm/cluster.h"

DEFINE_string(model, "",
              "up: model folders or hub ids org/name[@revision], comma-separated (default: the "
              "bundled stories260K); "
              "generate/chat: model name");
DEFINE_int32(workers, 2, "up: worker shards");
DEFINE_string(dtype, "",
              "up: the worker shards' serving dtype (float32, bfloat16 or float16; empty: the "
              "worker's default, float32)");
DEFINE_int32(grpc_port, 0, "up: gateway gRPC port (0: a free one)");
DEFINE_int32(http_port, 0, "up: gateway OpenAI HTTP port (0: a free one, -1: off)");
DEFINE_string(gateway_flags, "",
              "up: more flags for the gateway, space-separated (e.g. "
              "\"--worker_generate_streams=false\")");
DEFINE_string(target, "127.0.0.1:50050", "generate/chat: gateway address");
DEFINE_int32(max_tokens, 64, "Most tokens to generate");
DEFINE_double(temperature, 0.0, "Sampling temperature (0: greedy)");
DEFINE_double(top_p, 1.0, "Nucleus sampling mass");
DEFINE_int32(top_k, 0, "Top-k (0: off)");
DEFINE_int64(seed, -1, "Seed (-1: none)");
DEFINE_bool(json, false, "generate: print the final response as JSON");
DEFINE_string(prompt, "Once upon a time", "up: the prompt of the demo reply");
DEFINE_string(gateway_tls_ca, "",
              "generate/chat: PEM CA certificates that verify the gateway: connect over TLS");
DEFINE_string(gateway_tls_cert, "", "generate/chat: PEM client certificate chain (mTLS)");
DEFINE_string(gateway_tls_key, "", "generate/chat: PEM private key of --gateway_tls_cert");
DEFINE_string(gateway_tls_server_name, "",
              "generate/chat: name checked in the gateway's certificate instead of the host");

namespace {

std::string SelfDir() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  std::string path(buf, n > 0 ? n : 0);
  return path.substr(0, path.rfind('/'));
}

// A stub for --target, over TLS when a --gateway_tls_* flag is set; null (after printing why)
// when a file is bad.
std::unique_ptr<sllm::v1::Generation::Stub> GatewayStub() {
  auto security = sllm::MakeChannelSecurity({.ca_file = FLAGS_gateway_tls_ca,
                                             .cert_file = FLAGS_gateway_tls_cert,
                                             .key_file = FLAGS_gateway_tls_key,
                                             .server_name = FLAGS_gateway_tls_server_name,
                                             .setting_prefix = "--gateway_tls_"});
  if (!security.ok()) {
    std::cerr << security.status().message() << "\n";
    return nullptr;
  }
  return sllm::v1::Generation::NewStub(security->CreateChannel(FLAGS_target));
}

void FillParams(sllm::v1::GenerationParams* p) {
  p->set_max_tokens(FLAGS_max_tokens);
  p->set_temperature(static_cast<float>(FLAGS_temperature));
  p->set_top_p(static_cast<float>(FLAGS_top_p));
  p->set_top_k(FLAGS_top_k);
  if (FLAGS_seed >= 0) p->set_seed(static_cast<uint64_t>(FLAGS_seed));
}

const char* FinishName(sllm::v1::FinishReason r) {
  switch (r) {
    case sllm::v1::FINISH_REASON_STOP: return "stop";
    case sllm::v1::FINISH_REASON_LENGTH: return "length";
    case sllm::v1::FINISH_REASON_EOS: return "eos";
    case sllm::v1::FINISH_REASON_CANCELLED: return "cancelled";
    case sllm::v1::FINISH_REASON_ERROR: return "error";
    default: return "unspecified";
  }
}

// Streams one completion to stdout; returns the text. Non-zero exit on error.
template <typename Request, typename Call>
int StreamTo(std::ostream& out, const Request& request, Call call, std::string* text,
             bool json) {
  grpc::ClientContext ctx;
  auto reader = call(&ctx, request);
  sllm::v1::GenerateStreamResponse chunk, last;
  while (reader->Read(&chunk)) {
    if (!json) out << chunk.text() << std::flush;
    if (text) *text += chunk.text();
    last = chunk;
  }
  const grpc::Status st = reader->Finish();
  if (!st.ok()) {
    std::cerr << "\nsllm: " << st.error_message() << " (gRPC code " << st.error_code() << ")\n";
    return 1;
  }
  if (json) {
    out << nlohmann::json{{"text", text ? *text : ""},
                          {"finish_reason", FinishName(last.finish_reason())},
                          {"prompt_tokens", last.usage().prompt_tokens()},
                          {"completion_tokens", last.usage().completion_tokens()}}
               .dump()
        << "\n";
  } else {
    out << "\n";
  }
  return 0;
}

int Generate(const std::string& prompt) {
  auto stub = GatewayStub();
  if (stub == nullptr) return 2;
  sllm::v1::GenerateRequest req;
  req.set_model(FLAGS_model);
  req.set_text(prompt);
  FillParams(req.mutable_params());
  std::string text;
  return StreamTo(std::cout, req,
                  [&](grpc::ClientContext* ctx, const sllm::v1::GenerateRequest& r) {
                    return stub->GenerateStream(ctx, r);
                  },
                  &text, FLAGS_json);
}

int Chat() {
  auto stub = GatewayStub();
  if (stub == nullptr) return 2;
  sllm::v1::ChatRequest req;
  req.set_model(FLAGS_model);
  FillParams(req.mutable_params());
  std::cout << "sllm chat with " << FLAGS_model << " (/reset clears the history, Ctrl-D quits)\n";
  std::string line;
  while (std::cout << "> " << std::flush, std::getline(std::cin, line)) {
    if (line == "/reset") {
      req.clear_messages();
      continue;
    }
    auto* user = req.add_messages();
    user->set_role("user");
    user->set_content(line);
    std::string reply;
    if (StreamTo(std::cout, req,
                 [&](grpc::ClientContext* ctx, const sllm::v1::ChatRequest& r) {
                   return stub->ChatStream(ctx, r);
                 },
                 &reply, false) != 0) {
      req.mutable_messages()->RemoveLast();
      continue;
    }
    auto* assistant = req.add_messages();
    assistant->set_role("assistant");
    assistant->set_content(reply);
  }
  return 0;
}

int Up() {
  sllm::tools::ClusterOptions options;
  options.bin_dir = SelfDir();
  // Hub ids are fetched once here (not by every process), then served from the hub cache
  // under their id.
  for (absl::string_view m : absl::StrSplit(
           FLAGS_model.empty() ? std::string(SLLM_DEFAULT_MODEL) : FLAGS_model, ',',
           absl::SkipEmpty())) {
    auto dir = sllm::hub::ResolveModelDir(std::string(m));
    if (!dir.ok()) {
      std::cerr << "sllm up: " << dir.status().message() << "\n";
      return 1;
    }
    options.models.push_back(
        absl::StrCat(sllm::hub::DefaultModelName(std::string(m)), "=", *dir));
  }
  options.workers = FLAGS_workers;
  if (!FLAGS_dtype.empty()) {
    if (FLAGS_dtype != "float32" && FLAGS_dtype != "bfloat16" && FLAGS_dtype != "float16") {
      std::cerr << "sllm up: --dtype must be float32, bfloat16 or float16, got '" << FLAGS_dtype
                << "'\n";
      return 2;
    }
    options.worker_args.push_back("--dtype=" + FLAGS_dtype);
  }
  options.grpc_port = FLAGS_grpc_port;
  options.http_port = FLAGS_http_port;
  for (absl::string_view f : absl::StrSplit(FLAGS_gateway_flags, ' ', absl::SkipEmpty())) {
    options.gateway_args.emplace_back(f);
  }
  if (options.workers < 1) {
    std::cerr << "sllm up: --workers must be >= 1, got " << options.workers << "\n";
    return 2;
  }
  // Ctrl-C and SIGTERM are waited for below; block them so they arrive in sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  sllm::tools::Cluster cluster(options);
  std::cerr << "sllm up: starting the tokenizer service, " << options.workers
            << " worker shards and the gateway ...\n";
  if (auto st = cluster.Start(); !st.ok()) {
    std::cerr << "sllm up: " << st.message() << "\n";
    return 1;
  }
  const std::string model = cluster.model_names().front();
  std::cout << "sllm is up.\n  gateway (gRPC sllm.v1.Generation): " << cluster.gateway_target();
  if (cluster.http_port() > 0) {
    std::cout << "\n  gateway (OpenAI HTTP): http://127.0.0.1:" << cluster.http_port() << "/v1";
  }
  std::cout << "\n  tokenizer service: " << cluster.tokenizer_target() << "\n  worker shards:";
  for (int p : cluster.worker_ports()) std::cout << " 127.0.0.1:" << p;
  std::cout << "\n  metrics ports:";
  for (int p : cluster.metrics_ports()) std::cout << " " << p;
  std::cout << "\n  try: sllm generate --target " << cluster.gateway_target() << " --model "
            << model << " \"Once upon a time\"\n";
  if (cluster.http_port() > 0) {
    std::cout << "   or: curl http://127.0.0.1:" << cluster.http_port()
              << "/v1/completions -H 'Content-Type: application/json' -d '{\"model\": \""
              << model << "\", \"prompt\": \"Once upon a time\", \"max_tokens\": 32}'\n";
  }
  std::cout << "\n" << FLAGS_prompt << std::flush;
  FLAGS_target = cluster.gateway_target();
  FLAGS_model = model;
  Generate(FLAGS_prompt);
  std::cout << "\n(Ctrl-C stops every process)\n" << std::flush;
  int sig = 0;
  sigwait(&signals, &sig);
  std::cerr << "sllm up: stopping\n";
  cluster.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("sllm up | generate PROMPT | chat  (see --help)");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "up") return Up();
  if (cmd == "generate" && argc > 2) return Generate(argv[2]);
  if (cmd == "chat") return Chat();
  std::cerr << "usage: sllm up [--model DIR[,DIR...]] [--workers N] [--dtype D] "
               "[--grpc-port P] [--http-port P]\n"
               "       sllm generate [--target HOST:PORT] --model NAME [--json] \"prompt\"\n"
               "       sllm chat [--target HOST:PORT] --model NAME\n";
  return 2;
}
