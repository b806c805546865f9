// Process-wide SIGTERM / SIGINT notification through a self-pipe, so that a normal thread (not
// the signal handler) runs the graceful shutdown.
#pragma once

#include "absl/status/statusor.h"

namespace sllm {

// Installs handlers for SIGTERM and SIGINT (once per process; later calls return the same fd)
// and returns the read end of a non-blocking pipe that becomes readable when either signal
// arrives. The handler only write()s one byte: it is async-signal-safe. Meant for one watcher
// per process (ServiceRunner); the watcher drains the pipe with DrainShutdownSignals().
absl::StatusOr<int> InstallShutdownSignalHandlers();

// Reads every pending byte from the pipe and returns the last signal number received
// (0 when none was pending).
int DrainShutdownSignals(int read_fd);

}  // namespace sllm
