#include "services/common/shutdown_signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <mutex>
#include <string>

#include "absl/status/status.h"

namespace sllm {
namespace {

// Written by the signal handler: plain ints, set before the handlers are installed.
volatile sig_atomic_t g_write_fd = -1;

void OnShutdownSignal(int signal_number) {
  const int saved_errno = errno;
  const unsigned char byte = static_cast<unsigned char>(signal_number);
  // Non-blocking: a full pipe already means "shut down", so a failed write loses nothing.
  [[maybe_unused]] ssize_t written = write(g_write_fd, &byte, 1);
  errno = saved_errno;
}

absl::Status ErrnoError(const std::string& what) {
  return absl::InternalError(what + ": " + strerror(errno));
}

absl::StatusOr<int> Install() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return ErrnoError("pipe2");
  g_write_fd = fds[1];
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = OnShutdownSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int signal_number : {SIGTERM, SIGINT}) {
    if (sigaction(signal_number, &action, nullptr) != 0) return ErrnoError("sigaction");
  }
  return fds[0];
}

}  // namespace

absl::StatusOr<int> InstallShutdownSignalHandlers() {
  static std::once_flag once;
  static absl::StatusOr<int>* result = nullptr;
  std::call_once(once, [] { result = new absl::StatusOr<int>(Install()); });
  return *result;
}

int DrainShutdownSignals(int read_fd) {
  int last = 0;
  unsigned char buffer[64];
  for (;;) {
    const ssize_t n = read(read_fd, buffer, sizeof(buffer));
    if (n > 0) {
      last = buffer[n - 1];
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return last;  // EAGAIN (empty), EOF or error.
  }
}

}  // namespace sllm
