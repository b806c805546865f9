#include "services/worker/model/layers.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/embedding.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/rsqrt.h>

#include <atomic>
#include <vector>

#include "services/worker/kernels/dense_linear.h"

namespace sllm::worker {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias,
               const at::TensorOptions& options) {
  weight_ = RegisterParameter("weight", at::empty({out_features, in_features}, options));
  if (bias) bias_ = RegisterParameter("bias", at::empty({out_features}, options));
}

at::Tensor Linear::Forward(const at::Tensor& x) const {
  return ApplyLinear(x, weight_, bias_, x.scalar_type());
}

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

namespace {
std::atomic<bool> streaming_linear_enabled{true};
}  // namespace

void SetStreamingLinearEnabled(bool enabled) { streaming_linear_enabled = enabled; }

at::Tensor ApplyLinear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                       at::ScalarType out_dtype) {
  const int64_t n = weight.size(0), k = weight.size(1);
  const int64_t m = k > 0 ? x.numel() / k : 0;
  const bool f32 = weight.scalar_type() == at::kFloat;
  const bool bf16 = weight.scalar_type() == at::kBFloat16;
  if (!streaming_linear_enabled || !x.is_cpu() || !(f32 || bf16) || m == 0 ||
      m > kMaxStreamingRows ||
      !weight.is_contiguous()) {
    return at::linear(x, weight, bias).to(out_dtype);
  }
  // Decode-sized: stream the weights once through our kernel (dense_linear.h).
  const at::Tensor x32 = x.reshape({m, k}).to(at::kFloat).contiguous();
  const at::Tensor b32 = bias.defined() ? bias.to(at::kFloat).contiguous() : at::Tensor();
  at::Tensor y = at::empty({m, n}, x32.options());
  const float* b = b32.defined() ? b32.data_ptr<float>() : nullptr;
  if (f32) {
    kernels::LinearF32(x32.data_ptr<float>(), m, weight.data_ptr<float>(), n, k, b,
                       y.data_ptr<float>());
  } else {
    kernels::LinearBF16(x32.data_ptr<float>(), m,
                        reinterpret_cast<const uint16_t*>(weight.data_ptr<at::BFloat16>()), n, k,
                        b, y.data_ptr<float>());
  }
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = n;
  return y.to(out_dtype).view(shape);
}

at::Tensor ProjectLogits(const at::Tensor& hidden, const at::Tensor& indices,
                         const at::Tensor& weight, const at::Tensor& bias) {
  return ApplyLinear(hidden.index_select(0, indices), weight, bias, at::kFloat);
}

}  // namespace sllm::worker
