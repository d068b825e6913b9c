// causal_attention against a direct softmax(q·kᵀ/√d + mask)·v, on one and on two threads.
#include <cmath>
#include <limits>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "dartquant/model/attention.h"

namespace dartquant {
namespace {

/// Full-matrix attention in float64: q [B, h, T, d], k and v [B, h_kv, T, d].
at::Tensor direct_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t sliding_window) {
  int64_t repeats = q.size(1) / k.size(1);
  auto keys = k.to(at::kDouble).repeat_interleave(repeats, 1);
  auto values = v.to(at::kDouble).repeat_interleave(repeats, 1);
  auto scores = at::matmul(q.to(at::kDouble), keys.transpose(-1, -2)) / std::sqrt(static_cast<double>(q.size(3)));
  auto positions = at::arange(q.size(2), at::kLong);
  auto relative = positions.unsqueeze(1) - positions.unsqueeze(0);
  auto allowed = relative >= 0;
  if (sliding_window > 0) {
    allowed = allowed.logical_and(relative < sliding_window);
  }
  scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<double>::infinity());
  return at::matmul(scores.softmax(-1), values);
}

/// Restores the intra-op thread count when a test ends.
struct ThreadCountGuard {
  int previous = at::get_num_threads();
  ~ThreadCountGuard() { at::set_num_threads(previous); }
};

// 3 windows × 3 KV heads = 9 slices: two threads split window 1 between them, so both the
// whole-window and the partial-window paths run. 300 positions make three query blocks of 128.
TEST(CausalAttention, MatchesDirectOnOneAndTwoThreads) {
  ThreadCountGuard guard;
  at::manual_seed(0);
  auto q = at::randn({3, 6, 300, 8});
  auto k = at::randn({3, 3, 300, 8});
  auto v = at::randn({3, 3, 300, 8});

  for (int64_t window : {0, 37}) {
    auto expected = direct_attention(q, k, v, window);
    at::set_num_threads(1);
    auto serial = model::causal_attention(q, k, v, window);
    at::set_num_threads(2);
    auto parallel = model::causal_attention(q, k, v, window);

    EXPECT_LT((serial.to(at::kDouble) - expected).abs().max().item<double>(), 1e-5) << "window " << window;
    EXPECT_LT((parallel.to(at::kDouble) - expected).abs().max().item<double>(), 1e-5) << "window " << window;
    EXPECT_TRUE(at::equal(serial, parallel)) << "window " << window;
  }
}

}  // namespace
}  // namespace dartquant
