// Incremental parser of a text/event-stream body (the WHATWG server-sent events format): bytes
// in, in pieces of any size, events out. Handles LF, CRLF and CR line ends (also split across
// pieces), comment lines, multi-line data and fields without a value.
#ifndef SLLM_BENCH_LOAD_SSE_PARSER_H_
#define SLLM_BENCH_LOAD_SSE_PARSER_H_

#include <functional>
#include <string>
#include <string_view>

namespace sllm::loadgen {

struct SseEvent {
  std::string type;  // The `event:` field; empty for the default "message".
  std::string data;  // The `data:` lines joined by "\n".
  std::string id;    // The last `id:` field, if any.
};

class SseParser {
 public:
  using Callback = std::function<void(const SseEvent&)>;
  explicit SseParser(Callback on_event) : on_event_(std::move(on_event)) {}

  // Parses the next piece of the body; calls the callback for each event it completes.
  void Feed(std::string_view bytes);

 private:
  void Line(std::string_view line);

  Callback on_event_;
  std::string line_;           // The unfinished line.
  bool after_cr_ = false;      // The previous piece ended in CR: a leading LF is its pair.
  SseEvent event_;             // The event being built.
  bool has_data_ = false;      // event_ has a data field.
};

}  // namespace sllm::loadgen

#endif  // SLLM_BENCH_LOAD_SSE_PARSER_H_
