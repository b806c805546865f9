// One benchmark request and what was measured of it.
#ifndef SLLM_BENCH_LOAD_REQUEST_H_
#define SLLM_BENCH_LOAD_REQUEST_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace sllm::loadgen {

using Clock = std::chrono::steady_clock;

// A prompt as text, token ids or both (text prompts encoded by the in-process tokenizer carry
// the ids the gateway's tokenizer gives them).
struct Prompt {
  std::string text;
  std::vector<uint32_t> ids;
  bool has_text = false;
  // Tokens to generate (exactly: requests ask for ignore_eos).
  int64_t output_len = 0;
};

// Sampling and limits shared by every request of a run.
struct RequestSettings {
  std::string model;
  // 0: greedy.
  double temperature = 0;
  uint64_t seed = 0;
  // Deadline of one request.
  double timeout_s = 600;
};

struct RequestSpec {
  std::string request_id;
  const Prompt* prompt = nullptr;
  // Send prompt->text (gateway targets) instead of prompt->ids.
  bool send_text = false;
  const RequestSettings* settings = nullptr;
};

struct RequestResult {
  bool ok = false;
  // Why it failed: the gRPC code name ("UNAVAILABLE"), "HTTP_<status>", "TRANSPORT" (no
  // connection, cut stream), or "STREAM_ERROR" (an OK call whose stream reported an error).
  std::string error;
  std::string error_message;

  Clock::time_point start, end;
  // Seconds from the send to the first token; < 0 when none came.
  double ttft_s = -1;
  // Seconds between consecutive token-bearing chunks.
  std::vector<double> itl_s;
  double e2e_s = 0;

  int64_t requested_output_tokens = 0;
  // Prompt tokens: the usage's count when reported, else the ids sent.
  int64_t prompt_tokens = 0;
  // Prompt tokens served from the worker's prefix cache (usage), 0 when not reported.
  int64_t cached_prompt_tokens = 0;
  // Output tokens: counted in the stream over gRPC; over HTTP, whose chunks carry text and not
  // ids, the usage's completion_tokens (chunks when usage is missing).
  int64_t output_tokens = 0;
  // Token ids streamed (gRPC) or text chunks streamed (HTTP).
  int64_t streamed = 0;
  // completion_tokens of the final usage; -1 when the server sent none.
  int64_t usage_output_tokens = -1;
  // The stream and the usage disagree (gRPC: ids streamed != usage; HTTP: more text chunks
  // than tokens).
  bool token_count_mismatch = false;
};

// Fills a RequestResult's timings as a stream arrives.
class StreamRecorder {
 public:
  // Starts the clock.
  explicit StreamRecorder(RequestResult* result);
  // A chunk with `tokens` new tokens (or text chunks) arrived now; chunks with none are not
  // timed.
  void Chunk(int64_t tokens);
  // The call ended now.
  void Finish();

 private:
  RequestResult* result_;
  Clock::time_point last_;
};

}  // namespace sllm::loadgen

#endif  // SLLM_BENCH_LOAD_REQUEST_H_
