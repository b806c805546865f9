#include "bench/load/request.h"

namespace sllm::loadgen {
namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

StreamRecorder::StreamRecorder(RequestResult* result) : result_(result) {
  result_->start = Clock::now();
  last_ = result_->start;
}

void StreamRecorder::Chunk(int64_t tokens) {
  if (tokens <= 0) return;
  const Clock::time_point now = Clock::now();
  if (result_->streamed == 0) {
    result_->ttft_s = Seconds(now - result_->start);
  } else {
    result_->itl_s.push_back(Seconds(now - last_));
  }
  last_ = now;
  result_->streamed += tokens;
}

void StreamRecorder::Finish() {
  result_->end = Clock::now();
  result_->e2e_s = Seconds(result_->end - result_->start);
}

}  // namespace sllm::loadgen
