// Building blocks named as in transformers checkpoints: Linear ("weight", "bias"), Embedding
// ("weight"), RMSNorm ("weight"), LayerNorm ("weight", "bias").
#ifndef SLLM_SERVICES_WORKER_MODEL_LAYERS_H_
#define SLLM_SERVICES_WORKER_MODEL_LAYERS_H_

#include <cstdint>
#include <memory>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include "absl/status/status.h"
#include "services/worker/model/module.h"
#include "services/worker/quant/quantized_matrix.h"

namespace sllm::worker {

// Inputs of at most this many rows (decode steps) go through kernels::LinearF32/BF16 on the
// CPU, which read each weight once at memory speed; larger ones (prefill, big batches)
// through libtorch's GEMM, which wins from about 16 rows on 2048-wide layers
// (sllm-engine-micro-bench BM_DecodeStep, bench/results/RESULTS.md).
inline constexpr int64_t kMaxStreamingRows = 8;
// float32 layers this wide (in_features) or wider use the kernels at every row count.
inline constexpr int64_t kWideRowFeatures = 1024;

// Turns the streaming kernels off (every product through libtorch) or back on; process-wide,
// for benchmarks that compare the two in one run (sllm-bench --kernels).
void SetStreamingLinearEnabled(bool enabled);

// y = x W^T + b in `out_dtype`: x [..., in], weight [out, in], bias [out] or undefined.
at::Tensor ApplyLinear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                       at::ScalarType out_dtype);

// y = x W^T + b, W [out_features, in_features]. After Quantize() W is held only in int8 or
// int4 form (quant::QuantizedMatrix) and products run through quant::MatMul.
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias, const at::TensorOptions& options);
  // A projection sharing an existing weight (a tied lm_head over the embedding table); it
  // registers no parameter of its own.
  explicit Linear(at::Tensor shared_weight);
  // x [..., in_features] -> [..., out_features] in x's dtype.
  at::Tensor Forward(const at::Tensor& x) const;
  // The same in float32 (logits).
  at::Tensor ForwardFloat(const at::Tensor& x) const;

  // Replaces W by its quantized form and frees the float copy this layer held. CPU only.
  absl::Status Quantize(quant::QuantType type);
  bool quantized() const { return quantized_ != nullptr; }

 protected:
  int64_t ExtraWeightBytes() const override;

 private:
  at::Tensor Apply(const at::Tensor& x, at::ScalarType out_dtype) const;

  at::Tensor weight_;  // Undefined once quantized.
  at::Tensor bias_;    // Undefined without bias.
  bool owns_weight_ = true;
  std::shared_ptr<const quant::QuantizedMatrix> quantized_;
};

// Rows of a [num_embeddings, dim] table.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t dim, const at::TensorOptions& options);
  // ids int64 [T] -> [T, dim].
  at::Tensor Forward(const at::Tensor& ids) const;
  const at::Tensor& weight() const { return weight_; }

 private:
  at::Tensor weight_;
};

// transformers' LlamaRMSNorm: normalizes in float32, casts back to the input dtype, then
// scales by the weight: weight * (x / sqrt(mean(x^2) + eps)).to(dtype).
class RMSNorm : public Module {
 public:
  RMSNorm(int64_t dim, double eps, const at::TensorOptions& options);
  // x [..., dim] -> [..., dim].
  at::Tensor Forward(const at::Tensor& x) const;

 private:
  at::Tensor weight_;
  double eps_;
};

// torch.nn.LayerNorm over the last dim, with weight and bias.
class LayerNorm : public Module {
 public:
  LayerNorm(int64_t dim, double eps, const at::TensorOptions& options);
  // x [..., dim] -> [..., dim].
  at::Tensor Forward(const at::Tensor& x) const;

 private:
  at::Tensor weight_;
  at::Tensor bias_;
  double eps_;
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_LAYERS_H_
