#include "services/common/flags.h"

#include <cstdio>
#include <string>

DEFINE_string(host, "0.0.0.0", "Interface the gRPC server and the metrics endpoint listen on.");
DEFINE_int32(port, 0, "gRPC port; 0 picks a free port (logged at startup).");
DEFINE_int32(metrics_port, 0,
             "Prometheus /metrics HTTP port; 0 picks a free port, -1 disables metrics.");
DEFINE_double(drain_seconds, 10.0,
              "On SIGTERM/SIGINT: seconds in-flight calls may run before they are cancelled.");
DEFINE_int32(max_message_mb, 64, "Largest gRPC message received or sent, in MiB.");
DEFINE_string(tls_cert, "",
              "PEM certificate chain of this server: serve gRPC over TLS (with --tls_key). "
              "Empty: plaintext.");
DEFINE_string(tls_key, "", "PEM private key of --tls_cert (unencrypted).");
DEFINE_string(tls_client_ca, "",
              "PEM CA certificates: require every client to present a certificate they signed "
              "(mTLS). Needs --tls_cert and --tls_key.");

namespace {

bool ValidPort(const char* flag, int32_t value) {
  if (value >= 0 && value <= 65535) return true;
  fprintf(stderr, "--%s=%d: must be in [0, 65535]\n", flag, value);
  return false;
}

bool ValidMetricsPort(const char* flag, int32_t value) {
  if (value >= -1 && value <= 65535) return true;
  fprintf(stderr, "--%s=%d: must be -1 (off) or in [0, 65535]\n", flag, value);
  return false;
}

bool ValidDrain(const char* flag, double value) {
  if (value >= 0 && value <= 3600) return true;  // Also rejects NaN.
  fprintf(stderr, "--%s=%g: must be in [0, 3600]\n", flag, value);
  return false;
}

bool ValidMessageSize(const char* flag, int32_t value) {
  if (value >= 1 && value <= 2047) return true;
  fprintf(stderr, "--%s=%d: must be in [1, 2047]\n", flag, value);
  return false;
}

}  // namespace

DEFINE_validator(port, &ValidPort);
DEFINE_validator(metrics_port, &ValidMetricsPort);
DEFINE_validator(drain_seconds, &ValidDrain);
DEFINE_validator(max_message_mb, &ValidMessageSize);

namespace sllm {

void SetServerFlagDefaults(int port, int metrics_port) {
  gflags::SetCommandLineOptionWithMode("port", std::to_string(port).c_str(),
                                       gflags::SET_FLAGS_DEFAULT);
  gflags::SetCommandLineOptionWithMode("metrics_port", std::to_string(metrics_port).c_str(),
                                       gflags::SET_FLAGS_DEFAULT);
}

ServerOptions ServerOptionsFromFlags() {
  ServerOptions options;
  options.host = FLAGS_host;
  options.metrics_host = FLAGS_host;
  options.port = FLAGS_port;
  options.metrics_port = FLAGS_metrics_port;
  options.drain_deadline = absl::Seconds(FLAGS_drain_seconds);
  options.max_message_bytes = FLAGS_max_message_mb << 20;
  options.tls.cert_file = FLAGS_tls_cert;
  options.tls.key_file = FLAGS_tls_key;
  options.tls.client_ca_file = FLAGS_tls_client_ca;
  return options;
}

}  // namespace sllm
