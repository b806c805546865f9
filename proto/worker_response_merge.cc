#include "proto/worker_response_merge.h"

namespace sllm {

void AppendWorkerResponse(const v1::WorkerGenerateResponse& next,
                          v1::WorkerGenerateResponse* into) {
  // Repeated fields append; the finish fields are set on the last message only, and a
  // message's unset fields leave the merged ones alone. The steps' durations add up.
  const uint64_t step_us = into->timings().step_us() + next.timings().step_us();
  into->MergeFrom(next);
  if (step_us != 0) into->mutable_timings()->set_step_us(step_us);
}

}  // namespace sllm
