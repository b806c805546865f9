#include "bench/load/sse_parser.h"

namespace sllm::loadgen {

void SseParser::Feed(std::string_view bytes) {
  for (const char c : bytes) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;  // The LF of a CRLF.
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      Line(line_);
      line_.clear();
    } else {
      line_.push_back(c);
    }
  }
}

void SseParser::Line(std::string_view line) {
  if (line.empty()) {  // Dispatch.
    if (has_data_) on_event_(event_);
    event_ = SseEvent();
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // Comment (keep-alive).
  const size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) event_.data.push_back('\n');
    event_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.type = std::string(value);
  } else if (field == "id") {
    event_.id = std::string(value);
  }
  // "retry" and unknown fields are ignored.
}

}  // namespace sllm::loadgen
