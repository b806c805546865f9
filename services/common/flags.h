// Command-line flags every service binary shares, defined once here:
//   --host, --port, --metrics_port, --drain_seconds, --max_message_mb,
//   --tls_cert, --tls_key, --tls_client_ca (TLS on the gRPC port; mTLS with a client CA)
#pragma once

#include "gflags/gflags.h"
#include "services/common/server.h"

DECLARE_string(host);
DECLARE_int32(port);
DECLARE_int32(metrics_port);
DECLARE_double(drain_seconds);
DECLARE_int32(max_message_mb);
DECLARE_string(tls_cert);
DECLARE_string(tls_key);
DECLARE_string(tls_client_ca);

namespace sllm {

// Gives this binary its own default ports (e.g. tokenizer 50051 / 9091). Call before
// gflags::ParseCommandLineFlags so that --help shows them and the command line still wins.
void SetServerFlagDefaults(int port, int metrics_port);

// ServerOptions from the flags above; everything else keeps its ServerOptions default.
ServerOptions ServerOptionsFromFlags();

}  // namespace sllm
