#include "services/worker/model/rotary_embedding.h"

#include <cmath>

#include <ATen/TensorOperators.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/pow.h>
#include <ATen/ops/where.h>

namespace sllm::worker {
namespace {

// transformers' _compute_llama3_parameters, op for op in float32. Python's `scalar / tensor`
// is `tensor.reciprocal() * scalar` in PyTorch, and is written so here to round identically.
at::Tensor Llama3Scale(const at::Tensor& inv_freq, const RopeScaling& s) {
  const double factor = s.factor;
  const double low = s.low_freq_factor;
  const double high = s.high_freq_factor;
  const double old_context_len = static_cast<double>(s.original_max_position_embeddings);
  const double low_freq_wavelen = old_context_len / low;
  const double high_freq_wavelen = old_context_len / high;

  const at::Tensor wavelen = inv_freq.reciprocal() * (2 * M_PI);
  // Wavelengths longer than low_freq_wavelen: divide by factor.
  at::Tensor scaled = at::where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq);
  // In between: interpolate smoothly.
  const at::Tensor smooth = (wavelen.reciprocal() * old_context_len - low) / (high - low);
  const at::Tensor smoothed = (1 - smooth) * scaled / factor + smooth * scaled;
  const at::Tensor is_medium =
      (wavelen >= high_freq_wavelen).logical_and(wavelen <= low_freq_wavelen);
  return at::where(is_medium, smoothed, scaled);
}

at::Tensor RotateHalf(const at::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

}  // namespace

at::Tensor RopeInverseFrequencies(int64_t rotary_dim, double theta, const RopeScaling& scaling) {
  const at::Tensor exponent = at::arange(0, rotary_dim, 2, at::kLong).to(at::kFloat) /
                              static_cast<double>(rotary_dim);
  at::Tensor inv_freq = at::pow(theta, exponent).reciprocal();
  switch (scaling.type) {
    case RopeScalingType::kNone:
      break;
    case RopeScalingType::kLinear:
      inv_freq = inv_freq / scaling.factor;
      break;
    case RopeScalingType::kLlama3:
      inv_freq = Llama3Scale(inv_freq, scaling);
      break;
  }
  return inv_freq;
}

RotaryEmbedding::RotaryEmbedding(int64_t rotary_dim, double theta, const RopeScaling& scaling,
                                 c10::Device device)
    : inv_freq_(RopeInverseFrequencies(rotary_dim, theta, scaling).to(device)) {}

std::pair<at::Tensor, at::Tensor> RotaryEmbedding::CosSin(const at::Tensor& positions,
                                                          c10::ScalarType dtype) const {
  const at::Tensor freqs = positions.to(at::kFloat).unsqueeze(1) * inv_freq_.unsqueeze(0);
  const at::Tensor emb = at::cat({freqs, freqs}, -1).unsqueeze(1);  // [T, 1, rotary_dim]
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

at::Tensor RotaryEmbedding::Apply(const at::Tensor& x, const at::Tensor& cos,
                                  const at::Tensor& sin) {
  const int64_t rotary_dim = cos.size(-1);
  if (rotary_dim == x.size(-1)) return x * cos + RotateHalf(x) * sin;
  const at::Tensor rot = x.narrow(-1, 0, rotary_dim);
  return at::cat({rot * cos + RotateHalf(rot) * sin,
                  x.narrow(-1, rotary_dim, x.size(-1) - rotary_dim)},
                 -1);
}

}  // namespace sllm::worker
