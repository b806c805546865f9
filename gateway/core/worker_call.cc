#include "gateway/core/worker_call.h"

#include <utility>

#include "glog/logging.h"
#include "proto/worker_response_merge.h"

namespace sllm::gateway {

WorkerCall::Took TakeArrived(std::deque<v1::WorkerGenerateResponse>& arrived, bool ended,
                             v1::WorkerGenerateResponse* out, size_t max_messages) {
  CHECK_GE(max_messages, 1u);
  out->Clear();
  if (arrived.empty()) return ended ? WorkerCall::Took::kEnded : WorkerCall::Took::kWaiting;
  *out = std::move(arrived.front());
  arrived.pop_front();
  for (size_t n = 1; n < max_messages && !arrived.empty(); ++n) {
    AppendWorkerResponse(arrived.front(), out);
    arrived.pop_front();
  }
  return WorkerCall::Took::kBatch;
}

}  // namespace sllm::gateway
