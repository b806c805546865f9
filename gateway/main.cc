// sllm-gateway: the public entry point. gRPC (sllm.v1.Generation) and the OpenAI-compatible
// HTTP API over the tokenizer service and a set of worker shards.
//   sllm-gateway --tokenizer 127.0.0.1:50051 --workers 127.0.0.1:50061,127.0.0.1:50062
//   sllm-gateway --tokenizer tokenizer:50051 --workers_dns sllm-worker:50061   (Kubernetes)
// TLS: --tls_cert/--tls_key (and --tls_client_ca for client certificates) serve both public
// fronts, gRPC and HTTPS; --upstream_tls_* secure the hops to the tokenizer and the shards.
#include <cstdlib>

#include "absl/strings/str_split.h"
#include "gateway/server/gateway_server.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "services/common/flags.h"
#include "services/common/server.h"

DEFINE_string(tokenizer, "127.0.0.1:50051", "Tokenizer service address");
DEFINE_string(workers, "", "Worker shard addresses, comma-separated");
DEFINE_string(workers_dns, "",
              "Or: a host:port whose DNS addresses are the shards (a headless Service), "
              "re-resolved every --dns_refresh_seconds");
DEFINE_double(dns_refresh_seconds, 5, "How often --workers_dns is re-resolved");
DEFINE_bool(worker_generate_streams, true,
            "Run requests as sequences on one GenerateStreams call per shard (when the shard "
            "serves it); false: a Generate call per request");
DEFINE_int32(http_port, 8000, "OpenAI-compatible HTTP port (0: a free one, -1: off)");
DEFINE_int32(http_threads, 2, "HTTP I/O threads");
DEFINE_int32(max_body_mb, 8, "Largest HTTP request body (MiB)");
DEFINE_double(request_timeout_seconds, 600, "Longest a request may run");
DEFINE_int32(max_tokens_cap, 8192, "Largest max_tokens a request may ask for");
DEFINE_int32(max_stop_strings, 16, "Most stop strings per request");
DEFINE_string(api_keys_file, "",
              "API keys, one per line (NAME:SECRET or SECRET); also read from $SLLM_API_KEYS "
              "(comma-separated). None: no authentication");
DEFINE_double(key_rate_limit_rpm, 0, "Requests per minute per API key (0: unlimited)");
DEFINE_int32(key_max_in_flight, 0, "Requests in flight per API key (0: unlimited)");
DEFINE_string(upstream_tls_ca, "",
              "PEM CA certificates that verify the tokenizer's and the shards' certificates: "
              "dial them over TLS. Empty (and no other --upstream_tls_* flag): plaintext");
DEFINE_string(upstream_tls_cert, "",
              "PEM client certificate chain presented to the tokenizer and the shards (mTLS, "
              "with --upstream_tls_key)");
DEFINE_string(upstream_tls_key, "", "PEM private key of --upstream_tls_cert");
DEFINE_string(upstream_tls_server_name, "",
              "Name checked against the upstream certificates instead of each target's host "
              "(e.g. when shards are found by IP through --workers_dns)");

int main(int argc, char** argv) {
  sllm::ConfigureServerProcess();
  sllm::SetServerFlagDefaults(/*port=*/50050, /*metrics_port=*/9090);
  gflags::SetUsageMessage(
      "sllm-gateway --tokenizer HOST:PORT (--workers HOST:PORT[,...] | --workers_dns HOST:PORT)");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;

  sllm::gateway::GatewayServerOptions o;
  o.grpc = sllm::ServerOptionsFromFlags();
  o.tokenizer_target = FLAGS_tokenizer;
  o.shards.targets = absl::StrSplit(FLAGS_workers, ',', absl::SkipEmpty());
  o.shards.dns_target = FLAGS_workers_dns;
  o.shards.dns_interval = absl::Seconds(FLAGS_dns_refresh_seconds);
  o.shards.generate_streams = FLAGS_worker_generate_streams;
  if (o.shards.targets.empty() == o.shards.dns_target.empty()) {
    LOG(ERROR) << "give exactly one of --workers (a list of shards) and --workers_dns";
    return 2;
  }
  o.limits.max_tokens_cap = FLAGS_max_tokens_cap;
  o.limits.max_stop_strings = FLAGS_max_stop_strings;
  o.http.host = o.grpc.host;
  o.http.port = FLAGS_http_port;
  o.http.io_threads = FLAGS_http_threads;
  o.http.max_body_bytes = static_cast<size_t>(FLAGS_max_body_mb) << 20;
  // One certificate for the public host: the HTTP front serves HTTPS with the gRPC flags.
  o.http.tls_cert_file = o.grpc.tls.cert_file;
  o.http.tls_key_file = o.grpc.tls.key_file;
  o.http.tls_client_ca_file = o.grpc.tls.client_ca_file;
  auto upstream = sllm::MakeChannelSecurity({.ca_file = FLAGS_upstream_tls_ca,
                                             .cert_file = FLAGS_upstream_tls_cert,
                                             .key_file = FLAGS_upstream_tls_key,
                                             .server_name = FLAGS_upstream_tls_server_name});
  if (!upstream.ok()) {
    LOG(ERROR) << upstream.status().message();
    return 2;
  }
  o.upstream = *upstream;
  o.openai.request_timeout = absl::Seconds(FLAGS_request_timeout_seconds);
  if (!FLAGS_api_keys_file.empty()) {
    auto keys = sllm::gateway::LoadApiKeyFile(FLAGS_api_keys_file);
    if (!keys.ok()) {
      LOG(ERROR) << keys.status().message();
      return 2;
    }
    o.api_keys = std::move(*keys);
  }
  if (const char* env = std::getenv("SLLM_API_KEYS"); env != nullptr && *env != '\0') {
    auto keys = sllm::gateway::ParseApiKeys(env, ',', "SLLM_API_KEYS");
    if (!keys.ok()) {
      LOG(ERROR) << keys.status().message();
      return 2;
    }
    o.api_keys.insert(o.api_keys.end(), keys->begin(), keys->end());
  }
  o.api_key_limits.requests_per_minute = FLAGS_key_rate_limit_rpm;
  o.api_key_limits.max_in_flight = FLAGS_key_max_in_flight;

  sllm::gateway::GatewayServer server(o);
  if (auto st = server.Start(); !st.ok()) {
    LOG(ERROR) << st;
    return 1;
  }
  LOG(INFO) << "gateway: gRPC on " << server.grpc_target() << ", HTTP on port "
            << server.http_port() << ", metrics on port " << server.metrics_port()
            << " (tokenizer " << FLAGS_tokenizer << ", shards "
            << (FLAGS_workers.empty() ? "from DNS " + FLAGS_workers_dns : FLAGS_workers) << ")";
  server.Wait();
  return 0;
}
