// Stop strings on streamed text: text that could still turn out to be the start of a stop
// string is held back, so that no part of a stop string ever reaches the client. Deltas in
// and out are valid UTF-8.
#ifndef SLLM_GATEWAY_STREAMING_STOP_MATCHER_H_
#define SLLM_GATEWAY_STREAMING_STOP_MATCHER_H_

#include <string>
#include <string_view>
#include <vector>

namespace sllm::gateway {

class StopMatcher {
 public:
  // `stops` must be non-empty strings (validated at the front door).
  explicit StopMatcher(std::vector<std::string> stops, bool include_stop_in_output = false);

  // Adds a delta of generated text; returns the text that may be sent now. After a match,
  // returns the text up to the stop string (with it, if included) and nothing afterwards.
  std::string Feed(std::string_view delta);

  // End of generation without a match: returns the text still held back.
  std::string Flush();

  bool matched() const { return matched_ >= 0; }
  // The stop string that matched; empty before a match.
  const std::string& matched_stop() const;

 private:
  std::vector<std::string> stops_;
  bool include_;
  std::string held_;
  int matched_ = -1;
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_STREAMING_STOP_MATCHER_H_
