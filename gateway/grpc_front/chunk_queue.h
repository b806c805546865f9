// The chunks of one GenerateStream call on their way to its client. gRPC takes one write at a
// time; a chunk that comes while one is being written waits, and further chunks are appended
// to the waiting one. A client that reads slowly (or a congested connection) then gets fewer,
// larger chunks carrying the same text and ids, and the gateway holds at most two messages for
// it, not one per token: the text it has not taken yet, which has to reach it anyway. (The HTTP
// front does the same with its SSE bytes.) When the client keeps up, every chunk goes out as
// it comes.
#ifndef SLLM_GATEWAY_GRPC_FRONT_CHUNK_QUEUE_H_
#define SLLM_GATEWAY_GRPC_FRONT_CHUNK_QUEUE_H_

#include <cstdint>
#include <optional>

#include "sllm/v1/generation.pb.h"

namespace sllm::gateway {

// Appends `next` to `into` as if both had been one chunk: text, token ids, their logprobs and
// the prompt echo concatenated; the finish fields (reason, stop string or id, usage, error) and
// the request id taken from `next` where it sets them.
void AppendChunk(const v1::GenerateStreamResponse& next, v1::GenerateStreamResponse* into);

class ChunkQueue {
 public:
  // Queues `chunk`; true when nothing was being written: the caller writes writing() now.
  bool Push(const v1::GenerateStreamResponse& chunk);
  // The chunk being written; stays put until WriteDone.
  const v1::GenerateStreamResponse& writing() const { return *writing_; }
  // The write of writing() finished; true when a waiting chunk became writing(): the caller
  // writes it now.
  bool WriteDone();
  // Drops the waiting chunk (the client is gone); a write in flight stays until WriteDone.
  void DropWaiting() { waiting_.reset(); }
  // A write is in flight.
  bool busy() const { return writing_.has_value(); }
  // Chunks that were appended to a waiting one instead of being written on their own.
  uint64_t merged() const { return merged_; }

 private:
  std::optional<v1::GenerateStreamResponse> writing_;
  std::optional<v1::GenerateStreamResponse> waiting_;
  uint64_t merged_ = 0;
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_GRPC_FRONT_CHUNK_QUEUE_H_
