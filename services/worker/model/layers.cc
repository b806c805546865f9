#include "services/worker/model/layers.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/embedding.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/rsqrt.h>

namespace sllm::worker {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias,
               const at::TensorOptions& options) {
  weight_ = RegisterParameter("weight", at::empty({out_features, in_features}, options));
  if (bias) bias_ = RegisterParameter("bias", at::empty({out_features}, options));
}

at::Tensor Linear::Forward(const at::Tensor& x) const { return at::linear(x, weight_, bias_); }

Embedding::Embedding(int64_t num_embeddings, int64_t dim, const at::TensorOptions& options) {
  weight_ = RegisterParameter("weight", at::empty({num_embeddings, dim}, options));
}

at::Tensor Embedding::Forward(const at::Tensor& ids) const { return at::embedding(weight_, ids); }

RMSNorm::RMSNorm(int64_t dim, double eps, const at::TensorOptions& options) : eps_(eps) {
  weight_ = RegisterParameter("weight", at::empty({dim}, options));
}

at::Tensor RMSNorm::Forward(const at::Tensor& x) const {
  const at::Tensor x32 = x.to(at::kFloat);
  const at::Tensor variance = x32.pow(2).mean(-1, /*keepdim=*/true);
  return weight_ * (x32 * at::rsqrt(variance + eps_)).to(x.scalar_type());
}

LayerNorm::LayerNorm(int64_t dim, double eps, const at::TensorOptions& options) : eps_(eps) {
  weight_ = RegisterParameter("weight", at::empty({dim}, options));
  bias_ = RegisterParameter("bias", at::empty({dim}, options));
}

at::Tensor LayerNorm::Forward(const at::Tensor& x) const {
  return at::layer_norm(x, {x.size(-1)}, weight_, bias_, eps_);
}

at::Tensor ProjectLogits(const at::Tensor& hidden, const at::Tensor& indices,
                         const at::Tensor& weight, const at::Tensor& bias) {
  return at::linear(hidden.index_select(0, indices), weight, bias).to(at::kFloat);
}

}  // namespace sllm::worker
