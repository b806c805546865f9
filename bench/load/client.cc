#include "bench/load/client.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sllm::loadgen {
namespace {

constexpr struct {
  absl::string_view scheme;
  TargetKind kind;
} kSchemes[] = {{"grpc://", TargetKind::kGatewayGrpc},
                {"http://", TargetKind::kGatewayHttp},
                {"worker://", TargetKind::kWorker}};

}  // namespace

std::string Target::ToString() const {
  for (const auto& s : kSchemes) {
    if (s.kind == kind) return absl::StrCat(s.scheme, address);
  }
  return address;
}

absl::StatusOr<Target> ParseTarget(absl::string_view url) {
  for (const auto& s : kSchemes) {
    if (!absl::StartsWith(url, s.scheme)) continue;
    Target t{s.kind, std::string(url.substr(s.scheme.size()))};
    while (!t.address.empty() && t.address.back() == '/') t.address.pop_back();
    const size_t colon = t.address.rfind(':');
    uint32_t port = 0;
    if (colon == std::string::npos || colon == 0 ||
        !absl::SimpleAtoi(absl::string_view(t.address).substr(colon + 1), &port) || port == 0 ||
        port > 65535 || t.address.find('/') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--target must be SCHEME://HOST:PORT with a port in [1, 65535], got '", url, "'"));
    }
    return t;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--target must start with grpc:// (gateway gRPC), http:// (gateway OpenAI HTTP) or "
      "worker:// (one worker shard), got '", url, "'"));
}

std::unique_ptr<LoadClient> MakeClient(const Target& target) {
  switch (target.kind) {
    case TargetKind::kGatewayGrpc: return MakeGatewayGrpcClient(target.address);
    case TargetKind::kGatewayHttp: return MakeHttpClient(target.address);
    case TargetKind::kWorker: return MakeWorkerClient(target.address);
  }
  return nullptr;
}

}  // namespace sllm::loadgen
