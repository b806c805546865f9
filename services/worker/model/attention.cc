#include "services/worker/model/attention.h"

#include <algorithm>
#include <limits>
#include <vector>

#include <ATen/TensorOperators.h>
#include <ATen/ops/bmm.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/softmax.h>
#include <ATen/ops/tril.h>
#include <ATen/ops/triu.h>

#include "services/worker/kernels/decode_attention.h"
#include "services/worker/kernels/serial_openmp.h"

namespace sllm::worker {
namespace {

// One sequence: q [n, H, D] over keys/values [ctx, KV, D]; the n queries are the last n
// positions of the context. Computed in float32 whatever the storage dtype.
at::Tensor AttendOne(const at::Tensor& q, const at::Tensor& all_keys,
                     const at::Tensor& all_values, double scale, int64_t window) {
  const int64_t n = q.size(0), heads = q.size(1), dim = q.size(2);
  const int64_t ctx = all_keys.size(0), kv_heads = all_keys.size(1);
  // Keys before `start` are outside every query's window.
  const int64_t start = window > 0 ? std::max<int64_t>(0, ctx - n - window + 1) : 0;
  const at::Tensor keys = all_keys.narrow(0, start, ctx - start);
  const at::Tensor values = all_values.narrow(0, start, ctx - start);
  const int64_t len = ctx - start;
  const int64_t group = heads / kv_heads;
  // A short prompt's products stay on this thread (serial_openmp.h).
  const kernels::SerialOpenMpScope serial(kernels::SmallGemm(heads * n * len * dim));
  // [KV, group * n, D]: query head h = kv * group + g.
  const at::Tensor qh = q.to(at::kFloat).view({n, kv_heads, group, dim}).permute({1, 2, 0, 3})
                            .reshape({kv_heads, group * n, dim});
  const at::Tensor kh = keys.to(at::kFloat).permute({1, 2, 0});    // [KV, D, len]
  const at::Tensor vh = values.to(at::kFloat).permute({1, 0, 2});  // [KV, len, D]
  at::Tensor scores = at::bmm(qh, kh) * scale;                     // [KV, group * n, ctx]
  if (n > 1) {
    // Query j sits at position p = ctx - n + j: key row r (position start + r) is hidden when
    // it lies after p, or, with a window, at or before p - window.
    const at::Tensor ones = at::ones({n, len}, scores.options().dtype(at::kBool));
    at::Tensor hidden = at::triu(ones, ctx - n - start + 1);
    if (window > 0) hidden = hidden.logical_or(at::tril(ones, ctx - n - window - start));
    scores = scores.view({kv_heads, group, n, len})
                 .masked_fill(hidden, -std::numeric_limits<float>::infinity())
                 .view({kv_heads, group * n, len});
  }
  const at::Tensor out = at::bmm(at::softmax(scores, -1), vh);  // [KV, group * n, D]
  return out.view({kv_heads, group, n, dim})
      .permute({2, 0, 1, 3})
      .reshape({n, heads, dim})
      .to(q.scalar_type());
}

}  // namespace

at::Tensor PagedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          KVCache& cache, int64_t layer, const AttentionMetadata& metadata,
                          double scale, int64_t sliding_window) {
  cache.Write(layer, metadata.slot_mapping, k, v);
  const at::Tensor& keys = cache.key(layer);
  const at::Tensor& values = cache.value(layer);
  // On the CPU, decode tokens (one per sequence) attend straight from the cache blocks in
  // one kernel call; prompt chunks, and every sequence on CUDA, go through AttendOne.
  const bool cpu_kernel = q.is_cpu() && keys.is_contiguous() && values.is_contiguous() &&
                          (keys.scalar_type() == at::kFloat ||
                           keys.scalar_type() == at::kBFloat16);
  const at::Tensor q32 = q.to(at::kFloat).contiguous();
  at::Tensor out = at::empty_like(q32);  // [T, heads, head_dim]
  const int64_t heads = q.size(1), row = heads * q.size(2);
  std::vector<at::Tensor> tables;  // Keeps contiguous copies alive.
  std::vector<kernels::DecodeQuery> decode;
  for (const SequenceAttention& seq : metadata.sequences) {
    if (cpu_kernel && seq.num_query_tokens == 1) {
      tables.push_back(seq.block_table.contiguous());
      decode.push_back({q32.data_ptr<float>() + seq.query_start * row,
                        tables.back().data_ptr<int64_t>(), seq.context_len,
                        out.data_ptr<float>() + seq.query_start * row});
      continue;
    }
    auto [seq_keys, seq_values] = cache.Gather(layer, seq.block_table, seq.context_len);
    out.narrow(0, seq.query_start, seq.num_query_tokens)
        .copy_(AttendOne(q32.narrow(0, seq.query_start, seq.num_query_tokens), seq_keys,
                         seq_values, scale, sliding_window));
  }
  if (!decode.empty()) {
    kernels::PagedKV kv;
    kv.keys = keys.data_ptr();
    kv.values = values.data_ptr();
    kv.bfloat16 = keys.scalar_type() == at::kBFloat16;
    kv.block_size = cache.block_size();
    kv.kv_heads = keys.size(2);
    kv.head_dim = keys.size(3);
    kernels::DecodeAttention(decode.data(), static_cast<int64_t>(decode.size()), heads, kv,
                             static_cast<float>(scale), sliding_window);
  }
  return out.to(q.scalar_type());
}

}  // namespace sllm::worker
