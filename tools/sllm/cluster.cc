#include "tools/sllm/cluster.h"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

extern char** environ;

namespace sllm::tools {
namespace {

std::string BaseName(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const size_t slash = dir.rfind('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

// "NAME=DIR" or "DIR" (named after its last path component) as the services' --models entry.
std::string ModelsEntry(const std::string& model) {
  return model.find('=') == std::string::npos ? absl::StrCat(BaseName(model), "=", model) : model;
}

}  // namespace

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

Cluster::~Cluster() { Stop(); }

std::vector<std::string> Cluster::model_names() const {
  std::vector<std::string> names;
  for (const auto& m : options_.models) {
    const std::string entry = ModelsEntry(m);
    names.push_back(entry.substr(0, entry.find('=')));
  }
  return names;
}

absl::Status Cluster::Spawn(const std::string& binary, const std::vector<std::string>& args) {
  const std::string path = options_.bin_dir + "/" + binary;
  std::vector<std::string> argv_s = {path};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Children start with no blocked signals and default handlers, whatever the caller (which
  // blocks SIGINT/SIGTERM to sigwait for them) has set: SIGTERM must reach their drain logic.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, path.c_str(), nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat("cannot start ", path, ": ", strerror(rc)));
  }
  pids_.push_back(pid);
  processes_.push_back({binary, args, 0, ""});
  return absl::OkStatus();
}

int Cluster::WaitExit(size_t index) {
  int status = 0;
  if (index < pids_.size() && pids_[index] > 0) {
    waitpid(pids_[index], &status, 0);
    pids_[index] = -1;
  }
  return status;
}

absl::Status Cluster::Restart(size_t index, const std::vector<std::string>& extra_args) {
  if (index >= pids_.size() || pids_[index] > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("process ", index, " is still running or unknown"));
  }
  processes_[index].args.insert(processes_[index].args.end(), extra_args.begin(),
                                extra_args.end());
  const Process p = processes_[index];
  if (absl::Status st = Spawn(p.binary, p.args); !st.ok()) return st;
  pids_[index] = pids_.back();
  pids_.pop_back();
  processes_.pop_back();  // The copy Spawn added; processes_[index] describes it.
  return WaitServing(p.port, p.service);
}

absl::Status Cluster::CheckAlive() {
  for (size_t i = 0; i < pids_.size(); ++i) {
    int status = 0;
    const pid_t pid = pids_[i];
    if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
      pids_.erase(pids_.begin() + static_cast<ptrdiff_t>(i));
      processes_.erase(processes_.begin() + static_cast<ptrdiff_t>(i));
      return absl::UnavailableError(absl::StrCat(
          "a cluster process (pid ", pid, ") exited ",
          WIFEXITED(status) ? absl::StrCat("with status ", WEXITSTATUS(status))
                            : absl::StrCat("on signal ", WTERMSIG(status)),
          " before the cluster was ready; its log is above"));
    }
  }
  return absl::OkStatus();
}

absl::Status Cluster::WaitServing(int port, const std::string& service) {
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  const absl::Time deadline = absl::Now() + options_.ready_timeout;
  grpc::Status st;
  while (absl::Now() < deadline) {
    // Health.Watch streams every status change; each watch lasts a second so that a process
    // that died is noticed within one.
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    auto reader = stub->Watch(&ctx, req);
    grpc::health::v1::HealthCheckResponse resp;
    while (reader->Read(&resp)) {
      if (resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
        ctx.TryCancel();
        reader->Finish();
        return absl::OkStatus();
      }
    }
    st = reader->Finish();
    if (absl::Status alive = CheckAlive(); !alive.ok()) return alive;
  }
  return absl::DeadlineExceededError(absl::StrCat(
      service, " on port ", port, " was not SERVING within ",
      absl::FormatDuration(options_.ready_timeout), ": ", st.error_message()));
}

absl::Status Cluster::Start() {
  std::vector<std::string> specs;
  for (const auto& m : options_.models) specs.push_back(ModelsEntry(m));
  const std::string models = absl::StrJoin(specs, ",");
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const int threads = options_.worker_threads > 0
                          ? options_.worker_threads
                          : std::max(1, cores / std::max(1, options_.workers));
  auto common = [&](int port, int metrics_port) {
    return std::vector<std::string>{"--host=127.0.0.1", absl::StrCat("--port=", port),
                                    absl::StrCat("--metrics_port=", metrics_port),
                                    "--minloglevel=1"};
  };
  tokenizer_port_ = FreePort();
  metrics_ports_.push_back(FreePort());
  auto args = common(tokenizer_port_, metrics_ports_.back());
  args.push_back("--models=" + models);
  args.insert(args.end(), options_.tokenizer_args.begin(), options_.tokenizer_args.end());
  if (auto st = Spawn("sllm-tokenizer-server", args); !st.ok()) return st;
  processes_.back().port = tokenizer_port_;
  processes_.back().service = "sllm.v1.TokenizerService";
  for (int i = 0; i < options_.workers; ++i) {
    worker_ports_.push_back(FreePort());
    metrics_ports_.push_back(FreePort());
    args = common(worker_ports_.back(), metrics_ports_.back());
    args.push_back("--models=" + models);
    args.push_back(absl::StrCat("--shard_id=", i));
    args.push_back(absl::StrCat("--threads=", threads));
    args.insert(args.end(), options_.worker_args.begin(), options_.worker_args.end());
    if (auto st = Spawn("sllm-worker-server", args); !st.ok()) return st;
    processes_.back().port = worker_ports_.back();
    processes_.back().service = "sllm.v1.WorkerService";
  }
  if (auto st = WaitServing(tokenizer_port_, "sllm.v1.TokenizerService"); !st.ok()) return st;
  std::vector<std::string> workers;
  for (int p : worker_ports_) {
    if (auto st = WaitServing(p, "sllm.v1.WorkerService"); !st.ok()) return st;
    workers.push_back(absl::StrCat("127.0.0.1:", p));
  }
  gateway_port_ = options_.grpc_port > 0 ? options_.grpc_port : FreePort();
  metrics_ports_.push_back(FreePort());
  args = common(gateway_port_, metrics_ports_.back());
  args.push_back("--tokenizer=" + tokenizer_target());
  args.push_back("--workers=" + absl::StrJoin(workers, ","));
  http_port_ = options_.http_port == 0 ? FreePort() : options_.http_port;
  args.push_back(absl::StrCat("--http_port=", http_port_));
  args.insert(args.end(), options_.gateway_args.begin(), options_.gateway_args.end());
  if (auto st = Spawn("sllm-gateway", args); !st.ok()) return st;
  processes_.back().port = gateway_port_;
  processes_.back().service = "sllm.v1.Generation";
  return WaitServing(gateway_port_, "sllm.v1.Generation");
}

void Cluster::Stop() {
  // Gateway first (it was started last), then workers, then the tokenizer.
  for (auto it = pids_.rbegin(); it != pids_.rend(); ++it) {
    if (*it > 0) kill(*it, SIGTERM);
  }
  for (pid_t pid : pids_) {
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
  }
  pids_.clear();
  processes_.clear();
}

}  // namespace sllm::tools
