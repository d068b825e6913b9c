#include "dartquant/model/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

// CMakeLists.txt compiles this file with -fopenmp (GCC builds). The parallel
// region of at::parallel_for is a template expanded here, so without the flag
// it runs serially.
#ifdef _OPENMP
#include <omp.h>
#endif

namespace dartquant::model {
namespace {

/// Score-matrix elements per query block: 4M floats = 16 MiB in float32.
constexpr int64_t kMaxScoreElements = int64_t{1} << 22;

/// Query rows per block: blocks let each query block skip the keys after it
/// (about half the work of a full causal score matrix) and keep scores in cache.
constexpr int64_t kQueryBlock = 128;

Linear load_projection(WeightLoader& loader, const std::string& prefix, const std::string& name, LinearRole role,
                       int64_t layer, int64_t out, int64_t in, bool bias) {
  std::string weight_name = prefix + name + ".weight";
  at::Tensor weight = loader.load(weight_name, {out, in});
  at::Tensor bias_tensor = bias ? loader.load(prefix + name + ".bias", {out}) : at::Tensor();
  return Linear(weight_name, LinearSite{role, MlpKind::kNone, layer, -1}, weight, bias_tensor);
}

/// Makes BLAS calls from the current OpenMP thread run on that thread alone.
/// Without it, perf showed Debian's OpenMP build of OpenBLAS (0.3.21) still
/// threading each gemm of a parallel region (sgemm_thread_nn, one team per
/// call). The setting belongs to the calling thread's implicit task, so it ends
/// with the parallel region.
void keep_blas_single_threaded() {
#ifdef _OPENMP
  if (omp_in_parallel()) {
    omp_set_num_threads(1);
  }
#endif
}

/// Additive mask for every (query, key) pair, [T, T]: 0 where attention is allowed, -inf otherwise.
at::Tensor attention_mask(int64_t length, int64_t sliding_window, const at::TensorOptions& options) {
  auto positions = at::arange(length, at::TensorOptions().dtype(at::kLong).device(options.device()));
  auto relative = positions.unsqueeze(1) - positions.unsqueeze(0);  // query - key
  auto allowed = relative >= 0;
  if (sliding_window > 0) {
    allowed = allowed.logical_and(relative < sliding_window);
  }
  return at::zeros({length, length}, options).masked_fill_(allowed.logical_not(), -std::numeric_limits<double>::infinity());
}

/// Writes the attention of q [b, g, n_rep, T, d] (already scaled by 1/√d) over
/// k_t [b, g, d, T] and v [b, g, T, d] into out [b, g, n_rep, T, d], `block`
/// query rows at a time. `mask` is attention_mask's [T, T] in the softmax dtype.
void attend_query_blocks(const at::Tensor& q, const at::Tensor& k_t, const at::Tensor& v, const at::Tensor& mask,
                         int64_t block, at::Tensor out) {
  int64_t batch = q.size(0);
  int64_t groups = q.size(1);
  int64_t repeats = q.size(2);
  int64_t length = q.size(3);
  int64_t head_dim = q.size(4);
  for (int64_t start = 0; start < length; start += block) {
    int64_t rows = std::min(block, length - start);
    int64_t end = start + rows;  // causality: these queries see keys 0 .. end-1 only

    auto q_block = q.narrow(3, start, rows).reshape({batch, groups, repeats * rows, head_dim});
    auto scores = at::matmul(q_block, k_t.narrow(-1, 0, end)).view({batch, groups, repeats, rows, end});
    if (scores.scalar_type() != mask.scalar_type()) {
      scores = scores.to(mask.scalar_type());
    }
    scores.add_(mask.narrow(0, start, rows).narrow(1, 0, end));
    auto probabilities = scores.softmax(-1).to(q.scalar_type());

    auto weighted = at::matmul(probabilities.view({batch, groups, repeats * rows, end}), v.narrow(2, 0, end));
    out.narrow(3, start, rows).copy_(weighted.view({batch, groups, repeats, rows, head_dim}));
  }
}

}  // namespace

Attention::Attention(const ModelConfig& config, int64_t layer, WeightLoader& loader)
    : num_heads_(config.num_attention_heads),
      num_kv_heads_(config.num_key_value_heads),
      head_dim_(config.head_dim),
      sliding_window_(config.sliding_window.value_or(0)) {
  std::string prefix = "model.layers." + std::to_string(layer) + ".self_attn.";
  int64_t hidden = config.hidden_size;
  int64_t q_width = num_heads_ * head_dim_;
  int64_t kv_width = num_kv_heads_ * head_dim_;
  bool bias = config.attention_bias;
  q_proj = load_projection(loader, prefix, "q_proj", LinearRole::kQuery, layer, q_width, hidden, bias);
  k_proj = load_projection(loader, prefix, "k_proj", LinearRole::kKey, layer, kv_width, hidden, bias);
  v_proj = load_projection(loader, prefix, "v_proj", LinearRole::kValue, layer, kv_width, hidden, bias);
  o_proj = load_projection(loader, prefix, "o_proj", LinearRole::kOutput, layer, hidden, q_width, bias);
}

at::Tensor Attention::forward(const at::Tensor& hidden, const ForwardContext& context) const {
  int64_t batch = hidden.size(0);
  int64_t length = hidden.size(1);

  // [B, T, h·d] -> [B, h, T, d]
  auto q = q_proj.forward(hidden).view({batch, length, num_heads_, head_dim_}).transpose(1, 2);
  auto k = k_proj.forward(hidden).view({batch, length, num_kv_heads_, head_dim_}).transpose(1, 2);
  auto v = v_proj.forward(hidden).view({batch, length, num_kv_heads_, head_dim_}).transpose(1, 2);

  q = context.rope->apply(q);
  k = context.rope->apply(k);
  if (query_key_rotation_) {
    q = query_key_rotation_(q);
    k = query_key_rotation_(k);
  }
  if (key_quantizer_) {
    k = key_quantizer_(k);
  }
  if (value_quantizer_) {
    v = value_quantizer_(v);
  }

  auto attended = causal_attention(q, k, v, sliding_window_);
  auto merged = attended.transpose(1, 2).reshape({batch, length, num_heads_ * head_dim_});
  return o_proj.forward(merged);
}

at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t sliding_window) {
  int64_t batch = q.size(0);
  int64_t heads = q.size(1);
  int64_t length = q.size(2);
  int64_t head_dim = q.size(3);
  int64_t kv_heads = k.size(1);
  int64_t repeats = heads / kv_heads;
  auto softmax_dtype = q.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;

  // Group the query heads by their KV head so K and V are never copied:
  // [B, h_kv, n_rep, T, d]. Scaling q first saves a pass over the scores.
  auto grouped_q = (q * (1.0 / std::sqrt(static_cast<double>(head_dim))))
                       .reshape({batch, kv_heads, repeats, length, head_dim});
  auto k_t = k.transpose(-1, -2);  // [B, h_kv, d, T]

  int64_t rows_budget = std::max<int64_t>(1, kMaxScoreElements / std::max<int64_t>(1, batch * heads * length));
  int64_t block = std::min({kQueryBlock, rows_budget, length});
  auto mask = attention_mask(length, sliding_window, q.options().dtype(softmax_dtype));
  auto result = at::empty({batch, kv_heads, repeats, length, head_dim}, q.options());
  if (!q.is_cpu()) {
    // A GPU runs the batched products on its own; CPU threads would only add launches.
    attend_query_blocks(grouped_q, k_t, v, mask, block, result);
    return result.view({batch, heads, length, head_dim});
  }

  // One parallel region over the (window, KV head) slices, each thread running its
  // matrix products single-threaded. Without it, bmm calls a BLAS gemm per slice and
  // the OpenMP build of OpenBLAS threads each small gemm with a barrier of its own, so
  // two threads ran slower than one (docs/benchmarks.md). With one thread the whole
  // range is one chunk and the products are batched as before.
  at::parallel_for(0, batch * kv_heads, 1, [&](int64_t begin, int64_t end) {
    keep_blas_single_threaded();
    for (int64_t slice = begin; slice < end;) {
      int64_t window = slice / kv_heads;
      int64_t head = slice % kv_heads;
      int64_t whole_windows = head == 0 ? (end - slice) / kv_heads : 0;
      if (whole_windows > 0) {
        auto pick = [&](const at::Tensor& x) { return x.narrow(0, window, whole_windows); };
        attend_query_blocks(pick(grouped_q), pick(k_t), pick(v), mask, block, pick(result));
        slice += whole_windows * kv_heads;
        continue;
      }
      int64_t count = std::min(kv_heads - head, end - slice);
      auto pick = [&](const at::Tensor& x) { return x.narrow(0, window, 1).narrow(1, head, count); };
      attend_query_blocks(pick(grouped_q), pick(k_t), pick(v), mask, block, pick(result));
      slice += count;
    }
  });
  return result.view({batch, heads, length, head_dim});
}

}  // namespace dartquant::model
