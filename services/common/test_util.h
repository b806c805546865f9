// Helpers for tests of services on real channels. Test-only: linked into tests, not services.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"
#include "services/common/server.h"

namespace sllm::testing {

// Server options for tests: gRPC and metrics on 127.0.0.1, ports picked by the kernel, no
// signal handling.
ServerOptions LocalServerOptions();

// A plaintext channel to `target` (e.g. ServiceRunner::local_target()).
std::shared_ptr<grpc::Channel> InsecureChannel(const std::string& target);

// GETs `path` from 127.0.0.1:`port` over HTTP/1.0 with a plain socket and returns the whole
// response (status line, headers and body); an empty string when the connection fails.
std::string HttpGet(int port, const std::string& path);

// The value of the first sample of `name` in the Prometheus text `metrics` whose labels contain
// every one of `labels` (e.g. `code="OK"`); -1 when there is none.
double MetricSample(const std::string& metrics, const std::string& name,
                    const std::vector<std::string>& labels);

// Sends one grpc.reflection.v1alpha ServerReflectionRequest with the string field `field` (e.g.
// "list_services", "file_containing_symbol") set to `value`, and returns the response in protobuf
// text format, or "error: ..." when the call fails. Uses the reflection messages that
// libgrpc++_reflection registers in the generated descriptor pool.
std::string ReflectionQuery(grpc::Channel& channel, const std::string& field,
                            const std::string& value);

}  // namespace sllm::testing
