// Joining consecutive messages of one worker Generate stream into one, for a reader that fell
// behind: the worker when its client reads slowly, the gateway when it relays a batch.
#ifndef SLLM_PROTO_WORKER_RESPONSE_MERGE_H_
#define SLLM_PROTO_WORKER_RESPONSE_MERGE_H_

#include "sllm/v1/worker.pb.h"

namespace sllm {

// Appends `next` to `into` as if both had been one message: token ids and their (top)
// logprobs concatenated, the step durations added up, the first message's time to first
// token and queue time kept, and the finish fields (set on the last message only) taken.
void AppendWorkerResponse(const v1::WorkerGenerateResponse& next,
                          v1::WorkerGenerateResponse* into);

}  // namespace sllm

#endif  // SLLM_PROTO_WORKER_RESPONSE_MERGE_H_
