#include "services/worker/model/layers.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/embedding.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/rsqrt.h>

#include <atomic>
#include <vector>

#include "services/worker/kernels/dense_linear.h"
#include "services/worker/kernels/serial_openmp.h"
#include "services/worker/quant/matmul.h"

namespace sllm::worker {
namespace {

// Runs a float32 kernel y[m, n] = x[m, k_padded] W^T + b on x [..., k] (converted to a
// contiguous float32 [m, k_padded], zero-padded past k) and returns y shaped like x with n
// features, in `out_dtype`.
template <typename Kernel>
at::Tensor ApplyFloatKernel(const at::Tensor& x, int64_t k_padded, int64_t n,
                            const at::Tensor& bias, at::ScalarType out_dtype,
                            const Kernel& kernel) {
  const int64_t k = x.size(-1), m = x.numel() / k;
  at::Tensor x32 = x.reshape({m, k}).to(at::kFloat);
  if (k_padded != k) x32 = at::constant_pad_nd(x32, {0, k_padded - k}, 0);
  x32 = x32.contiguous();
  const at::Tensor b32 = bias.defined() ? bias.to(at::kFloat).contiguous() : at::Tensor();
  at::Tensor y = at::empty({m, n}, x32.options());
  kernel(x32.data_ptr<float>(), m, b32.defined() ? b32.data_ptr<float>() : nullptr,
         y.data_ptr<float>());
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = n;
  return y.to(out_dtype).view(shape);
}

}  // namespace

Linear::Linear(int64_t in_features, int64_t out_features, bool bias,
               const at::TensorOptions& options) {
  weight_ = RegisterParameter("weight", at::empty({out_features, in_features}, options));
  if (bias) bias_ = RegisterParameter("bias", at::empty({out_features}, options));
}

Linear::Linear(at::Tensor shared_weight) : weight_(std::move(shared_weight)), owns_weight_(false) {}

at::Tensor Linear::Forward(const at::Tensor& x) const { return Apply(x, x.scalar_type()); }

at::Tensor Linear::ForwardFloat(const at::Tensor& x) const { return Apply(x, at::kFloat); }

at::Tensor Linear::Apply(const at::Tensor& x, at::ScalarType out_dtype) const {
  if (quantized_ == nullptr) return ApplyLinear(x, weight_, bias_, out_dtype);
  // Zero columns that pad the input dim to whole groups (see Quantize) add nothing.
  return ApplyFloatKernel(x, quantized_->cols(), quantized_->rows(), bias_, out_dtype,
                          [&](const float* x32, int64_t m, const float* b, float* y) {
                            quant::MatMul(x32, m, *quantized_, y, b);
                          });
}

absl::Status Linear::Quantize(quant::QuantType type) {
  if (quantized_ != nullptr) return absl::OkStatus();
  if (!weight_.is_cpu()) {
    return absl::UnimplementedError("quantized weights run on the CPU only");
  }
  // Groups of 32 need an input dim that is a multiple of 32: pad W with zero columns (the
  // activations get matching zeros in Apply). stories260K's MLP is 172 wide.
  const int64_t k = weight_.size(1), group = quant::QuantizedMatrix::kGroupSize;
  const int64_t padded = (k + group - 1) / group * group;
  at::Tensor w = weight_.to(at::kFloat);
  if (padded != k) w = at::constant_pad_nd(w, {0, padded - k}, 0);
  w = w.contiguous();
  absl::StatusOr<quant::QuantizedMatrix> q =
      quant::Quantize(w.data_ptr<float>(), w.size(0), w.size(1), type);
  if (!q.ok()) return q.status();
  quantized_ = std::make_shared<const quant::QuantizedMatrix>(std::move(*q));
  weight_ = at::Tensor();
  if (owns_weight_) DropParameter("weight");
  return absl::OkStatus();
}

int64_t Linear::ExtraWeightBytes() const {
  return quantized_ != nullptr ? quantized_->ByteSize() : 0;
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
  // Narrow rows (k <= 1024) keep the kernel's edge up to 32 rows: libtorch's GEMM is slow
  // there (tiny's 128k x 256 head at 9+ sequences doubled the decode step).
  const int64_t max_rows = k <= 1024 ? 4 * kMaxStreamingRows : kMaxStreamingRows;
  // float32 weights in wide rows take the kernel at any row count: it ran prefill 1.6-1.8x
  // faster than BLIS's sgemm at 64 and 384 rows on 2048-wide layers (bench/results/
  // RESULTS.md). Narrow rows keep BLIS there: the kernel's per-output sums cost too much.
  const bool any_rows = f32 && k >= kWideRowFeatures;
  if (!streaming_linear_enabled || !x.is_cpu() || !(f32 || bf16) || m == 0 ||
      (m > max_rows && !any_rows) || !weight.is_contiguous()) {
    const kernels::SerialOpenMpScope serial(kernels::SmallGemm(m * n * k));
    return at::linear(x, weight, bias).to(out_dtype);
  }
  // Decode-sized: stream the weights once through our kernel (dense_linear.h).
  return ApplyFloatKernel(x, k, n, bias, out_dtype,
                          [&](const float* x32, int64_t rows, const float* b, float* y) {
                            if (f32) {
                              kernels::LinearF32(x32, rows, weight.data_ptr<float>(), n, k, b, y);
                            } else {
                              kernels::LinearBF16(x32, rows,
                                                  reinterpret_cast<const uint16_t*>(
                                                      weight.data_ptr<at::BFloat16>()),
                                                  n, k, b, y);
                            }
                          });
}

}  // namespace sllm::worker
