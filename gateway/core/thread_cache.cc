#include "gateway/core/thread_cache.h"

#include <exception>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sllm::gateway {

ThreadCache::ThreadCache(std::chrono::milliseconds idle_timeout) : idle_timeout_(idle_timeout) {}

ThreadCache::~ThreadCache() {
  std::unique_lock<std::mutex> lock(mu_);
  stopping_ = true;
  work_.notify_all();
  ended_.wait(lock, [this] { return threads_ == 0; });
}

absl::Status ThreadCache::Run(std::function<void()> task) {
  std::unique_lock<std::mutex> lock(mu_);
  tasks_.push_back(std::move(task));
  // Each waiting thread takes one queued task.
  if (static_cast<int>(tasks_.size()) <= waiting_) {
    work_.notify_one();
    return absl::OkStatus();
  }
  try {
    std::thread([this] { Serve(); }).detach();
  } catch (const std::exception& e) {  // std::system_error, or std::bad_alloc.
    tasks_.pop_back();
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start another request thread (", e.what(), ")"));
  }
  ++threads_;
  return absl::OkStatus();
}

int ThreadCache::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_;
}

int ThreadCache::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_;
}

void ThreadCache::Serve() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    ++waiting_;
    work_.wait_for(lock, idle_timeout_, [this] { return stopping_ || !tasks_.empty(); });
    --waiting_;
    if (tasks_.empty()) break;  // Idle for idle_timeout_, or stopping with nothing queued.
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // Whatever the task holds goes before the thread waits again.
    lock.lock();
  }
  --threads_;
  // Under the lock: once it is released the destructor may return.
  ended_.notify_all();
}

}  // namespace sllm::gateway
