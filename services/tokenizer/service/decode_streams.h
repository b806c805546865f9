// DecodeStreams without a network: the open sequences of one multiplexed stream, each a
// DecodeStreamSession, and the answer to one request message.
#ifndef SLLM_SERVICES_TOKENIZER_SERVICE_DECODE_STREAMS_H_
#define SLLM_SERVICES_TOKENIZER_SERVICE_DECODE_STREAMS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "services/tokenizer/service/tokenizer_core.h"
#include "sllm/v1/tokenizer.pb.h"

namespace sllm::tokenizer {

class DecodeStreamsSession {
 public:
  // The most sequences one stream may have open at once (a gateway opens one per request in
  // flight, far fewer).
  static constexpr size_t kMaxOpenSequences = 65536;

  explicit DecodeStreamsSession(const TokenizerCore& core) : core_(core) {}

  // Runs every step of `request`, in order. `decoded`, when given, is told each step's model
  // and number of ids (for the traffic metrics).
  v1::DecodeStreamsResponse Handle(
      const v1::DecodeStreamsRequest& request,
      const std::function<void(const std::string& model, size_t ids)>& decoded = nullptr);

  size_t open_sequences() const { return open_.size(); }

 private:
  const TokenizerCore& core_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<DecodeStreamSession>> open_;
};

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_SERVICE_DECODE_STREAMS_H_
