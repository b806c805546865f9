// A local cluster of real processes: the tokenizer service, N worker shards and the gateway,
// each on its own free port, started from the binaries beside `sllm`.
#ifndef SLLM_TOOLS_SLLM_CLUSTER_H_
#define SLLM_TOOLS_SLLM_CLUSTER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace sllm::tools {

struct ClusterOptions {
  // Models served by every worker shard: "NAME=DIR", or a folder named after itself.
  std::vector<std::string> models;
  // Worker shards.
  int workers = 2;
  // Gateway gRPC port; 0 picks a free one.
  int grpc_port = 0;
  // Gateway OpenAI HTTP port; 0 picks a free one, -1 turns HTTP off.
  int http_port = 0;
  // Folder with sllm-tokenizer-server, sllm-worker-server and sllm-gateway.
  std::string bin_dir;
  // Threads per worker; 0 = cores / workers.
  int worker_threads = 0;
  // Extra flags for each kind of process (e.g. "--max_num_seqs=1").
  std::vector<std::string> tokenizer_args, worker_args, gateway_args;
  // How long to wait for every service to report SERVING.
  absl::Duration ready_timeout = absl::Seconds(120);
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options) : options_(std::move(options)) {}
  ~Cluster();  // Stops every process.

  // Starts every process and waits until each one's health check says SERVING.
  absl::Status Start();
  // SIGTERM to every process (gateway first), then waits for them.
  void Stop();

  std::string gateway_target() const { return "127.0.0.1:" + std::to_string(gateway_port_); }
  std::string tokenizer_target() const { return "127.0.0.1:" + std::to_string(tokenizer_port_); }
  // The gateway's HTTP port, or -1 when off.
  int http_port() const { return http_port_; }
  const std::vector<int>& worker_ports() const { return worker_ports_; }
  const std::vector<int>& metrics_ports() const { return metrics_ports_; }
  // Process ids: tokenizer, workers..., gateway (for fault tests).
  const std::vector<pid_t>& pids() const { return pids_; }
  // Model names, as requests spell them.
  std::vector<std::string> model_names() const;

  // Fault tests. Waits until process `index` (an index into pids()) exits and returns its
  // waitpid status.
  int WaitExit(size_t index);
  // Starts process `index` again (after it exited) with the same flags and port, plus
  // `extra_args` (kept for later restarts), and waits until it is SERVING.
  absl::Status Restart(size_t index, const std::vector<std::string>& extra_args = {});

 private:
  struct Process {
    std::string binary;
    std::vector<std::string> args;
    int port = 0;
    std::string service;  // Health service name that says it is ready.
  };
  absl::Status Spawn(const std::string& binary, const std::vector<std::string>& args);
  // Waits for SERVING; fails early when one of the processes has exited.
  absl::Status WaitServing(int port, const std::string& service);
  absl::Status CheckAlive();

  ClusterOptions options_;
  std::vector<pid_t> pids_;  // In start order; -1 once reaped by WaitExit.
  std::vector<Process> processes_;  // Parallel to pids_.
  int tokenizer_port_ = 0;
  int gateway_port_ = 0;
  int http_port_ = -1;
  std::vector<int> worker_ports_;
  std::vector<int> metrics_ports_;
};

// A TCP port that was free a moment ago on 127.0.0.1.
int FreePort();

}  // namespace sllm::tools

#endif  // SLLM_TOOLS_SLLM_CLUSTER_H_
