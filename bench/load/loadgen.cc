#include "bench/load/loadgen.h"

#include <cmath>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bench/load/client.h"
#include "bench/load/length_spec.h"
#include "bench/load/prompts.h"
#include "bench/load/runner.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/tokenizer.h"

namespace sllm::loadgen {
namespace {

constexpr int kMaxConcurrency = 512;  // One thread each.
constexpr int64_t kMaxLength = 1 << 20;
// Synthetic prompts made when the run is bounded by duration only (they are cycled).
constexpr int64_t kPromptsForDuration = 4096;
// The warm-up's prompts come from their own seed.
constexpr uint64_t kWarmupSeed = 0x5851f42d4c957f2dULL;

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

absl::Status CheckShape(const LoadgenOptions& o) {
  if (o.concurrency < 1 || o.concurrency > kMaxConcurrency) {
    return Invalid(absl::StrCat("--concurrency must be in [1, ", kMaxConcurrency, "], got ",
                                o.concurrency));
  }
  if (!(o.rate >= 0) || !std::isfinite(o.rate)) {
    return Invalid(absl::StrCat("--rate must be a finite number >= 0 (0: closed loop), got ",
                                o.rate));
  }
  if (o.num_requests < 0) {
    return Invalid(absl::StrCat("--num-requests must be >= 0, got ", o.num_requests));
  }
  if (!(o.duration_s >= 0) || !std::isfinite(o.duration_s)) {
    return Invalid(absl::StrCat("--duration must be a finite number of seconds >= 0, got ",
                                o.duration_s));
  }
  if (o.num_requests == 0 && o.duration_s == 0) {
    return Invalid("--num-requests 0 needs --duration > 0 (the run must end)");
  }
  if (o.warmup < 0) return Invalid(absl::StrCat("--warmup must be >= 0, got ", o.warmup));
  if (!(o.temperature >= 0)) {
    return Invalid(absl::StrCat("--temperature must be >= 0, got ", o.temperature));
  }
  if (!(o.timeout_s > 0)) {
    return Invalid(absl::StrCat("--timeout must be > 0 seconds, got ", o.timeout_s));
  }
  if (o.prompt_format != "auto" && o.prompt_format != "text" && o.prompt_format != "ids") {
    return Invalid(absl::StrCat("--prompt-format must be auto, text or ids, got '",
                                o.prompt_format, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> LoadTokenizer(const std::string& path) {
  const std::string file =
      absl::EndsWith(path, ".json") ? path : absl::StrCat(path, "/tokenizer.json");
  auto tok = tokenizer::Tokenizer::FromFile(file);
  if (!tok.ok()) return Invalid(absl::StrCat("--tokenizer ", path, ": ", tok.status().message()));
  return tok;
}

// What requests carry, given what the prompts have and the target takes; its name for the
// report is set in `name` ("text", "ids" or "mixed").
absl::StatusOr<PromptFormat> Format(const LoadgenOptions& o, const LoadClient& client,
                                    const std::vector<Prompt>& prompts, std::string* name) {
  bool all_text = true, all_ids = true, any_text = false;
  for (const Prompt& p : prompts) {
    all_text &= p.has_text;
    any_text |= p.has_text;
    all_ids &= !p.ids.empty();
  }
  const bool ids = !client.accepts_text() || o.prompt_format == "ids";
  if (!client.accepts_text() && o.prompt_format == "text") {
    return Invalid(absl::StrCat("--prompt-format text: ", o.target, " takes token ids only"));
  }
  if (ids && !all_ids) {
    return Invalid(absl::StrCat(o.target, " is sent token ids, and some prompts are text only: ",
                                "give --tokenizer DIR to encode them"));
  }
  if (o.prompt_format == "text" && !all_text) {
    return Invalid("--prompt-format text needs text prompts: give --tokenizer DIR for synthetic "
                   "ones, or a --prompts file of {\"prompt\": \"...\"} lines");
  }
  *name = ids || !any_text ? "ids" : all_text ? "text" : "mixed";
  if (ids) return PromptFormat::kIds;
  return o.prompt_format == "text" ? PromptFormat::kText : PromptFormat::kAuto;
}

}  // namespace

absl::StatusOr<LoadgenRun> RunLoadgen(const LoadgenOptions& o) {
  RETURN_IF_ERROR(CheckShape(o));
  ASSIGN_OR_RETURN(const Target target, ParseTarget(o.target));
  PromptSource source;
  ASSIGN_OR_RETURN(source.prompt_len, ParseLengthSpec("--prompt-len", o.prompt_len, kMaxLength));
  ASSIGN_OR_RETURN(source.output_len, ParseLengthSpec("--output-len", o.output_len, kMaxLength));
  std::unique_ptr<tokenizer::Tokenizer> tok;
  if (!o.tokenizer.empty()) {
    ASSIGN_OR_RETURN(tok, LoadTokenizer(o.tokenizer));
    source.tokenizer = tok.get();
  }

  std::unique_ptr<LoadClient> client = MakeClient(target);
  ASSIGN_OR_RETURN(const ModelInfo model, client->Probe(o.model));
  source.vocab_size = o.vocab_size > 0 ? o.vocab_size : model.vocab_size;
  if (o.vocab_size > 0 && model.vocab_size > 0 && o.vocab_size > model.vocab_size) {
    return Invalid(absl::StrCat("--vocab-size must be at most the model's ", model.vocab_size,
                                ", got ", o.vocab_size));
  }
  const int64_t context = model.max_context_length;
  if (context > 0 && o.prompts_file.empty() &&
      source.prompt_len.max + source.output_len.max > context) {
    return Invalid(absl::StrCat("--prompt-len ", o.prompt_len, " plus --output-len ", o.output_len,
                                " may take ", source.prompt_len.max + source.output_len.max,
                                " tokens, more than the context length of ", model.name, " (",
                                context, ")"));
  }
  source.file = o.prompts_file;
  source.seed = o.seed;
  const int64_t count = o.num_requests > 0 ? o.num_requests : kPromptsForDuration;
  ASSIGN_OR_RETURN(std::vector<Prompt> prompts, MakePrompts(source, static_cast<size_t>(count)));
  std::string format_name;
  ASSIGN_OR_RETURN(const PromptFormat format, Format(o, *client, prompts, &format_name));

  RequestSettings settings;
  settings.model = model.name;
  settings.temperature = o.temperature;
  settings.seed = o.seed;
  settings.timeout_s = o.timeout_s;
  if (o.warmup > 0) {
    PromptSource warm = source;
    warm.seed = o.seed ^ kWarmupSeed;
    ASSIGN_OR_RETURN(std::vector<Prompt> warm_prompts,
                     MakePrompts(warm, static_cast<size_t>(o.warmup)));
    LoadShape shape;
    shape.concurrency = std::min(o.concurrency, o.warmup);
    shape.num_requests = o.warmup;
    RunLoad(*client, warm_prompts, format, settings, shape, "loadgen-warmup-");
  }

  LoadShape shape;
  shape.concurrency = o.concurrency;
  shape.rate = o.rate;
  shape.num_requests = o.num_requests;
  shape.duration_s = o.duration_s;
  shape.seed = o.seed;
  RunResult run = RunLoad(*client, prompts, format, settings, shape, "loadgen-");

  RunConfig config;
  config.target = target.ToString();
  config.model = model.name;
  config.label = o.label;
  config.concurrency = o.concurrency;
  config.rate = o.rate;
  config.num_requests = o.num_requests;
  config.duration_s = o.duration_s;
  config.warmup = o.warmup;
  config.prompt_len = source.prompt_len.ToString();
  config.output_len = source.output_len.ToString();
  config.prompts_file = o.prompts_file;
  config.prompt_format = format_name;
  config.seed = o.seed;
  config.temperature = o.temperature;
  LoadgenRun out;
  out.report = Aggregate(config, run);
  out.results = std::move(run.results);
  return out;
}

}  // namespace sllm::loadgen
