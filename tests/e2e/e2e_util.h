// Helpers shared by the end-to-end tests: raw HTTP requests to the gateway and the shards'
// load straight from their gRPC API.
#ifndef SLLM_TESTS_E2E_E2E_UTIL_H_
#define SLLM_TESTS_E2E_E2E_UTIL_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "boost/asio.hpp"
#include "sllm/v1/worker.grpc.pb.h"
#include "tools/sllm/cluster.h"

namespace sllm::e2e {

// Sends a JSON POST on a new connection (closed by the server after the reply).
std::unique_ptr<boost::asio::ip::tcp::socket> SendPost(boost::asio::io_context& ioc, int port,
                                                       const std::string& path,
                                                       const std::string& body);

// Starts a long SSE completion (500 tokens, ignore_eos) and reads until its first event: the
// sequence is generating. `got` receives what was read.
std::unique_ptr<boost::asio::ip::tcp::socket> OpenStream(boost::asio::io_context& ioc, int port,
                                                         std::string* got);

// The status code and body of a JSON POST.
std::pair<int, std::string> PostJson(int port, const std::string& path, const std::string& body);

// Worker shard `shard`'s load (GetLoad on its port), or nullopt when it does not answer.
std::optional<v1::GetLoadResponse> ShardLoad(const tools::Cluster& cluster, int shard);

}  // namespace sllm::e2e

#endif  // SLLM_TESTS_E2E_E2E_UTIL_H_
