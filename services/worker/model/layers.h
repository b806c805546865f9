// Building blocks named as in transformers checkpoints: Linear ("weight", "bias"), Embedding
// ("weight"), RMSNorm ("weight"), LayerNorm ("weight", "bias").
#ifndef SLLM_SERVICES_WORKER_MODEL_LAYERS_H_
#define SLLM_SERVICES_WORKER_MODEL_LAYERS_H_

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include "services/worker/model/module.h"

namespace sllm::worker {

// Inputs of at most this many rows (decode steps) go through kernels::LinearF32/BF16 on the
// CPU, which read each weight once at memory speed; larger ones (prefill, big batches)
// through libtorch's GEMM, which wins from about 16 rows on 2048-wide layers
// (sllm-engine-micro-bench BM_DecodeStep, bench/results/RESULTS.md).
inline constexpr int64_t kMaxStreamingRows = 8;

// Turns the streaming kernels off (every product through libtorch) or back on; process-wide,
// for benchmarks that compare the two in one run (sllm-bench --kernels).
void SetStreamingLinearEnabled(bool enabled);

// y = x W^T + b in `out_dtype`: x [..., in], weight [out, in], bias [out] or undefined.
at::Tensor ApplyLinear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                       at::ScalarType out_dtype);

// y = x W^T + b, W [out_features, in_features].
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias, const at::TensorOptions& options);
  // x [..., in_features] -> [..., out_features].
  at::Tensor Forward(const at::Tensor& x) const;
  const at::Tensor& weight() const { return weight_; }
  const at::Tensor& bias() const { return bias_; }

 private:
  at::Tensor weight_;
  at::Tensor bias_;  // Undefined without bias.
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

// The float32 logits [N, vocab] of the rows `indices` of `hidden` [T, hidden] through an
// output projection `weight` [vocab, hidden] (and `bias` [vocab] when defined).
at::Tensor ProjectLogits(const at::Tensor& hidden, const at::Tensor& indices,
                         const at::Tensor& weight, const at::Tensor& bias = at::Tensor());

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_LAYERS_H_
