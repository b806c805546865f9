// Quality of weight-only int8 / int4 quantization (--quantize), measured against float32 on
// stories260K and tiny-llama3: logit error and top-1 agreement under teacher forcing (both run
// on the same ids, so one early difference does not cascade), and free-running greedy ids
// against the outside references (llama2.c run.c, llama.cpp). Every figure is printed; the
// bounds sit below what these models reach, so that a broken kernel or layout fails.
#include <iostream>

#include <ATen/TensorOperators.h>
#include <ATen/ops/argmax.h>
#include <ATen/ops/eq.h>

#include "gtest/gtest.h"
#include "services/worker/model/model_test_util.h"

namespace sllm::worker {
namespace {

using namespace ::sllm::worker::testing;  // NOLINT

LoadedModel LoadQuantized(const std::string& dir, quant::QuantType type) {
  SetTestThreads();
  ModelOptions options;
  options.quantize = type;
  auto loaded = LoadModel(dir, options);
  if (!loaded.ok()) {
    ADD_FAILURE() << loaded.status();
    std::abort();
  }
  return std::move(*loaded);
}

struct Case {
  std::vector<int64_t> prompt;
  std::vector<int64_t> expected;  // The float32 reference's greedy continuation.
};

std::vector<Case> StoriesCases() {
  std::vector<Case> cases;
  const nlohmann::json ref = ReadJsonFile(kStoriesDir + "/reference/greedy_reference.json");
  for (const auto& c : ref["cases"]) {
    const std::vector<int64_t> ids = Ids(c["ids"]);
    const auto n = c["n_prompt"].get<size_t>();
    cases.push_back({{ids.begin(), ids.begin() + n}, {ids.begin() + n, ids.end()}});
  }
  return cases;
}

std::vector<Case> TinyLlama3Cases() {
  std::vector<Case> cases;
  const nlohmann::json ref = ReadJsonFile(kTinyLlama3Dir + "/reference/greedy_llamacpp.json");
  for (const auto& c : ref["cases"]) {
    cases.push_back({Ids(c["prompt_ids"]), Ids(c["expected"])});
  }
  return cases;
}

// Logits of every position of prompt + expected[:-1].
at::Tensor TeacherForced(CausalLM& model, const Case& c) {
  std::vector<int64_t> ids = c.prompt;
  ids.insert(ids.end(), c.expected.begin(), c.expected.end() - 1);
  GreedyOptions options;
  options.max_new_tokens = 1;
  options.return_logits = true;
  return Greedy(model, ids, options).logits;
}

struct Quality {
  double relative_rms = 0;     // ||q - f|| / ||f|| over all logits.
  double max_abs = 0;          // max |q - f|.
  double top1_agreement = 0;   // Positions with the same argmax, teacher-forced.
  double greedy_agreement = 0; // Free-running greedy ids equal to the reference's, in order.
};

Quality Measure(CausalLM& reference, CausalLM& quantized, const std::vector<Case>& cases) {
  double diff2 = 0, ref2 = 0, max_abs = 0;
  int64_t agree = 0, positions = 0, greedy_same = 0, greedy_total = 0;
  for (const Case& c : cases) {
    const at::Tensor f = TeacherForced(reference, c);
    const at::Tensor q = TeacherForced(quantized, c);
    diff2 += (q - f).pow(2).sum().item<double>();
    ref2 += f.pow(2).sum().item<double>();
    max_abs = std::max(max_abs, (q - f).abs().max().item<double>());
    agree += at::eq(q.argmax(-1), f.argmax(-1)).sum().item<int64_t>();
    positions += f.size(0);
    GreedyOptions options;
    options.max_new_tokens = static_cast<int64_t>(c.expected.size());
    const std::vector<int64_t> ids = Greedy(quantized, c.prompt, options).tokens;
    for (size_t i = 0; i < c.expected.size() && i < ids.size() && ids[i] == c.expected[i]; ++i) {
      ++greedy_same;  // The common prefix: after the first difference the texts diverge.
    }
    greedy_total += static_cast<int64_t>(c.expected.size());
  }
  return {std::sqrt(diff2 / ref2), max_abs, double(agree) / positions,
          double(greedy_same) / greedy_total};
}

void Report(const std::string& what, const Quality& q) {
  std::cout << "[" << what << "] relative RMS logit error " << q.relative_rms
            << ", max |logit error| " << q.max_abs << ", teacher-forced top-1 agreement "
            << q.top1_agreement << ", greedy ids equal to the reference (common prefix) "
            << q.greedy_agreement << "\n";
}

struct Bounds {
  double relative_rms, top1_agreement;
};

void Check(const std::string& tag, const std::string& dir, const std::vector<Case>& cases,
           quant::QuantType type, Bounds bounds) {
  LoadedModel f32 = LoadTestModel(dir, at::kFloat);
  LoadedModel q = LoadQuantized(dir, type);
  const Quality quality = Measure(*f32.model, *q.model, cases);
  Report(tag + " " + std::string(quant::QuantTypeName(type)), quality);
  EXPECT_LT(quality.relative_rms, bounds.relative_rms);
  EXPECT_GT(quality.top1_agreement, bounds.top1_agreement);
  // The quantized model holds fewer weight bytes (the embedding table stays float32).
  std::cout << "[" << tag << " " << quant::QuantTypeName(type) << "] weights "
            << q.model->WeightBytes() << " bytes (float32: " << f32.model->WeightBytes()
            << "), one decode step reads " << q.model->DecodeWeightBytes() << " (float32: "
            << f32.model->DecodeWeightBytes() << ")\n";
  EXPECT_LT(q.model->DecodeWeightBytes(),
            f32.model->DecodeWeightBytes() * (type == quant::QuantType::kInt8 ? 0.3 : 0.17));
}

TEST(QuantizedModelTest, Stories260KInt8) {
  Check("stories260K", kStoriesDir, StoriesCases(), quant::QuantType::kInt8, {0.02, 0.97});
}

TEST(QuantizedModelTest, Stories260KInt4) {
  Check("stories260K", kStoriesDir, StoriesCases(), quant::QuantType::kInt4, {0.2, 0.8});
}

// tiny-llama3's hidden states have outliers that the int8 activation groups of MatMul round
// coarsely: with the same int8 weights and float32 activations (dequantized weights) the
// error is 0.016 and the agreement 0.98; through MatMul 0.073 and 0.88, as llama.cpp's Q8_0
// (which also quantizes activations to 8 bits per group of 32).
TEST(QuantizedModelTest, TinyLlama3Int8) {
  Check("tiny-llama3", kTinyLlama3Dir, TinyLlama3Cases(), quant::QuantType::kInt8, {0.12, 0.8});
}

TEST(QuantizedModelTest, TinyLlama3Int4) {
  Check("tiny-llama3", kTinyLlama3Dir, TinyLlama3Cases(), quant::QuantType::kInt4, {0.3, 0.6});
}

TEST(QuantizedModelTest, UnknownQuantizationIsRefusedByName) {
  auto q = ParseQuantize("int3");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("'int3'"), std::string::npos) << q.status();
  EXPECT_NE(q.status().message().find("int8"), std::string::npos) << q.status();
  EXPECT_FALSE(ParseQuantize("none")->has_value());
  EXPECT_EQ(ParseQuantize("int4")->value(), quant::QuantType::kInt4);
}

}  // namespace
}  // namespace sllm::worker
