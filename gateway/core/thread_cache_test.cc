#include "gateway/core/thread_cache.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "gtest/gtest.h"

namespace sllm::gateway {
namespace {

// Notified once by one thread, awaited by another. On std::mutex rather than absl::Notification
// so that ThreadSanitizer sees the hand-off: Debian's abseil is not TSan-instrumented, and an
// absl::Notification between a task's write and the test's read reads to it as a race.
class Signal {
 public:
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return notified_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
};

// Spins (yielding) until `done()`; for states that only a thread's own steps reach.
template <class F>
void Until(F done) {
  while (!done()) std::this_thread::yield();
}

TEST(ThreadCacheTest, AWaitingThreadTakesTheNextTask) {
  std::thread::id first, second;
  Signal ran_first, ran_second;
  ThreadCache cache;  // Last: it ends its threads before the state they use goes.
  ASSERT_TRUE(cache.Run([&] {
                     first = std::this_thread::get_id();
                     ran_first.Notify();
                   }).ok());
  ran_first.Wait();
  Until([&] { return cache.waiting() == 1; });
  ASSERT_TRUE(cache.Run([&] {
                     second = std::this_thread::get_id();
                     ran_second.Notify();
                   }).ok());
  ran_second.Wait();
  EXPECT_EQ(first, second);
  EXPECT_EQ(cache.threads(), 1);
}

TEST(ThreadCacheTest, BlockingTasksEachGetAThread) {
  constexpr int kTasks = 5;
  std::mutex mu;
  std::condition_variable all_started;
  int started = 0;
  std::set<std::thread::id> ids;
  std::atomic<int> finished{0};
  ThreadCache cache;
  for (int i = 0; i < kTasks; ++i) {
    // Each task waits until all have started: only kTasks threads at once can finish them.
    ASSERT_TRUE(cache.Run([&] {
                       std::unique_lock<std::mutex> lock(mu);
                       ids.insert(std::this_thread::get_id());
                       ++started;
                       all_started.notify_all();
                       all_started.wait(lock, [&] { return started == kTasks; });
                       ++finished;
                     }).ok());
  }
  Until([&] { return finished == kTasks; });
  EXPECT_EQ(ids.size(), static_cast<size_t>(kTasks));
  EXPECT_EQ(cache.threads(), kTasks);
}

TEST(ThreadCacheTest, AThreadLeftIdleEnds) {
  Signal ran, ran_again;
  ThreadCache cache(std::chrono::milliseconds(5));
  ASSERT_TRUE(cache.Run([&] { ran.Notify(); }).ok());
  ran.Wait();
  Until([&] { return cache.threads() == 0; });
  // A new thread serves the next task.
  ASSERT_TRUE(cache.Run([&] { ran_again.Notify(); }).ok());
  ran_again.Wait();
}

TEST(ThreadCacheTest, DestructionRunsEveryTaskAndWaitsForTheThreads) {
  std::atomic<int> ran{0};
  {
    ThreadCache cache;
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(cache.Run([&] { ++ran; }).ok());
  }
  EXPECT_EQ(ran, 20);
}

}  // namespace
}  // namespace sllm::gateway
