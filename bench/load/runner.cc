#include "bench/load/runner.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/load/arrivals.h"
#include "glog/logging.h"

namespace sllm::loadgen {
namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// What every client thread shares: the prompts, the request settings and the results.
class Load {
 public:
  Load(const std::vector<Prompt>& prompts, PromptFormat format, const RequestSettings& settings,
       const std::string& id_prefix)
      : prompts_(prompts), format_(format), settings_(settings), id_prefix_(id_prefix) {}

  void Send(Session& session, int64_t index, double queue_delay_s = 0) {
    RequestSpec spec;
    spec.request_id = absl::StrCat(id_prefix_, index);
    spec.prompt = &prompts_[static_cast<size_t>(index) % prompts_.size()];
    spec.send_text = format_ == PromptFormat::kText ||
                     (format_ == PromptFormat::kAuto && spec.prompt->has_text);
    spec.settings = &settings_;
    RequestResult r = session.Send(spec);
    std::lock_guard<std::mutex> lock(mu_);
    done_.push_back({index, std::move(r), queue_delay_s});
  }

  // Results in index order.
  void Collect(RunResult& out) {
    std::lock_guard<std::mutex> lock(mu_);
    std::sort(done_.begin(), done_.end(),
              [](const Done& a, const Done& b) { return a.index < b.index; });
    for (Done& d : done_) {
      out.results.push_back(std::move(d.result));
      out.queue_delay_s.push_back(d.queue_delay_s);
    }
  }

 private:
  struct Done {
    int64_t index;
    RequestResult result;
    double queue_delay_s;
  };
  const std::vector<Prompt>& prompts_;
  const PromptFormat format_;
  const RequestSettings& settings_;
  const std::string id_prefix_;
  std::mutex mu_;
  std::vector<Done> done_;
};

void ClosedLoop(LoadClient& client, Load& load, const LoadShape& shape,
                Clock::time_point deadline) {
  std::atomic<int64_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < shape.concurrency; ++t) {
    threads.emplace_back([&] {
      auto session = client.NewSession();
      while (Clock::now() < deadline) {
        const int64_t i = next.fetch_add(1);
        if (shape.num_requests > 0 && i >= shape.num_requests) break;
        load.Send(*session, i);
      }
    });
  }
  for (auto& t : threads) t.join();
}

void OpenLoop(LoadClient& client, Load& load, const LoadShape& shape, Clock::time_point start,
              Clock::time_point deadline) {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<int64_t, Clock::time_point>> arrived;  // Index, arrival time.
  bool closed = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < shape.concurrency; ++t) {
    threads.emplace_back([&] {
      auto session = client.NewSession();
      for (;;) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return closed || !arrived.empty(); });
        if (arrived.empty()) return;
        const auto [index, at] = arrived.front();
        arrived.pop_front();
        lock.unlock();
        load.Send(*session, index, Seconds(Clock::now() - at));
      }
    });
  }
  // The schedule itself: sleeping until each arrival time is the load's shape, not a wait for
  // another thread.
  PoissonArrivals arrivals(shape.rate, shape.seed);
  Clock::time_point at = start;
  for (int64_t i = 0; shape.num_requests == 0 || i < shape.num_requests; ++i) {
    at += std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(arrivals.NextGap()));
    if (at >= deadline) break;
    std::this_thread::sleep_until(at);
    {
      std::lock_guard<std::mutex> lock(mu);
      arrived.emplace_back(i, at);
    }
    cv.notify_one();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
  }
  cv.notify_all();
  for (auto& t : threads) t.join();
}

}  // namespace

RunResult RunLoad(LoadClient& client, const std::vector<Prompt>& prompts, PromptFormat format,
                  const RequestSettings& settings, const LoadShape& shape,
                  const std::string& id_prefix) {
  CHECK(!prompts.empty());
  CHECK_GE(shape.concurrency, 1);
  CHECK(shape.num_requests > 0 || shape.duration_s > 0);
  Load load(prompts, format, settings, id_prefix);
  RunResult out;
  out.start = Clock::now();
  const Clock::time_point deadline =
      shape.duration_s > 0 ? out.start + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(shape.duration_s))
                           : Clock::time_point::max();
  if (shape.rate > 0) {
    OpenLoop(client, load, shape, out.start, deadline);
  } else {
    ClosedLoop(client, load, shape, deadline);
  }
  out.end = Clock::now();
  load.Collect(out);
  return out;
}

}  // namespace sllm::loadgen
