#include "gateway/streaming/stop_matcher.h"

#include <algorithm>

namespace sllm::gateway {
namespace {

const std::string kEmpty;

}  // namespace

StopMatcher::StopMatcher(std::vector<std::string> stops, bool include_stop_in_output)
    : stops_(std::move(stops)), include_(include_stop_in_output) {
  stops_.erase(std::remove(stops_.begin(), stops_.end(), std::string()), stops_.end());
}

const std::string& StopMatcher::matched_stop() const {
  return matched_ >= 0 ? stops_[matched_] : kEmpty;
}

std::string StopMatcher::Feed(std::string_view delta) {
  if (matched()) return "";
  held_.append(delta);
  // The earliest stop string in the buffer (the longest one on a tie) ends the output.
  size_t best = std::string::npos;
  for (size_t i = 0; i < stops_.size(); ++i) {
    const size_t pos = held_.find(stops_[i]);
    if (pos == std::string::npos) continue;
    if (best == std::string::npos || pos < best ||
        (pos == best && stops_[i].size() > stops_[matched_].size())) {
      best = pos;
      matched_ = static_cast<int>(i);
    }
  }
  if (matched()) {
    std::string out = held_.substr(0, best + (include_ ? stops_[matched_].size() : 0));
    held_.clear();
    return out;
  }
  // Hold back the longest suffix that is a proper prefix of some stop string. It starts with
  // the stop's first byte, so the cut lies on a character boundary.
  size_t keep = 0;
  for (const std::string& stop : stops_) {
    const size_t max_len = std::min(stop.size() - 1, held_.size());
    for (size_t len = max_len; len > keep; --len) {
      if (held_.compare(held_.size() - len, len, stop, 0, len) == 0) {
        keep = len;
        break;
      }
    }
  }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopMatcher::Flush() {
  if (matched()) return "";
  std::string out;
  out.swap(held_);
  return out;
}

}  // namespace sllm::gateway
