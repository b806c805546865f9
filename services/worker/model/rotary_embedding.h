// Rotary position embedding in transformers' rotate_half layout (dims i and i + head_dim/2
// form a pair), with the inverse frequencies of transformers' rope utilities: default,
// "linear" and "llama3" (_compute_llama3_parameters) scaling.
#ifndef SLLM_SERVICES_WORKER_MODEL_ROTARY_EMBEDDING_H_
#define SLLM_SERVICES_WORKER_MODEL_ROTARY_EMBEDDING_H_

#include <cstdint>
#include <utility>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "services/worker/loader/model_config.h"

namespace sllm::worker {

// float32 [rotary_dim / 2] inverse frequencies, computed on the CPU in float32 exactly as
// transformers does: 1 / theta^(arange(0, dim, 2) / dim), then scaled.
at::Tensor RopeInverseFrequencies(int64_t rotary_dim, double theta, const RopeScaling& scaling);

class RotaryEmbedding {
 public:
  RotaryEmbedding(int64_t rotary_dim, double theta, const RopeScaling& scaling,
                  c10::Device device);

  // cos and sin [T, 1, rotary_dim] for int64 positions [T], computed in float32 and cast to
  // `dtype` (transformers: emb = cat(freqs, freqs); cos(emb).to(x.dtype)).
  std::pair<at::Tensor, at::Tensor> CosSin(const at::Tensor& positions,
                                           c10::ScalarType dtype) const;

  // x [T, heads, D] with its first rotary_dim = cos.size(-1) dims rotated,
  // x * cos + rotate_half(x) * sin, and the other D - rotary_dim passed through (partial
  // rotary, as Phi's query_rot / query_pass).
  static at::Tensor Apply(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

  const at::Tensor& inv_freq() const { return inv_freq_; }

 private:
  at::Tensor inv_freq_;  // float32 [rotary_dim / 2] on the device.
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_ROTARY_EMBEDDING_H_
