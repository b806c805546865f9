// Runs tasks on threads kept from earlier tasks: a task goes to a thread that is waiting for
// work, or to a new thread when none is. A thread that has waited `idle_timeout` for work
// ends. For tasks that block for their whole life (a streamed generation), where a fixed pool
// would queue requests behind running ones, and a thread per task pays the thread's start on
// every request (its stack, malloc arena and gRPC thread state come up cold: ~1 ms of TTFT).
#ifndef SLLM_GATEWAY_CORE_THREAD_CACHE_H_
#define SLLM_GATEWAY_CORE_THREAD_CACHE_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

#include "absl/status/status.h"

namespace sllm::gateway {

class ThreadCache {
 public:
  explicit ThreadCache(std::chrono::milliseconds idle_timeout = std::chrono::seconds(60));
  // Waits until every task has run and every thread has ended.
  ~ThreadCache();

  ThreadCache(const ThreadCache&) = delete;
  ThreadCache& operator=(const ThreadCache&) = delete;

  // Runs `task` on a waiting thread or a new one. RESOURCE_EXHAUSTED when no thread is
  // waiting and none can be started (ulimit -u, memory); the task is then dropped.
  absl::Status Run(std::function<void()> task);

  // Threads alive, running a task or waiting for one.
  int threads() const;
  // Threads waiting for a task.
  int waiting() const;

 private:
  void Serve();

  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable ended_;
  std::deque<std::function<void()>> tasks_;  // Guarded by mu_.
  int threads_ = 0;                          // Guarded by mu_.
  int waiting_ = 0;                          // Guarded by mu_: threads waiting for a task.
  bool stopping_ = false;                    // Guarded by mu_.
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_CORE_THREAD_CACHE_H_
