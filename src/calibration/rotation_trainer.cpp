#include "dartquant/calibration/rotation_trainer.h"

#include <chrono>
#include <cmath>
#include <memory>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include "dartquant/calibration/seeding.h"
#include "dartquant/calibration/whip.h"
#include "dartquant/core/error.h"
#include "dartquant/core/progress.h"
#include "dartquant/quant/quantizer.h"

namespace dartquant::calibration {
namespace {

/// x [tokens, groups·rep·n] → [groups, tokens·rep, n]: the rows that R[g] multiplies.
at::Tensor to_heads(const at::Tensor& x, const RotationShape& shape) {
  int64_t tokens = x.size(0);
  return x.reshape({tokens, shape.groups, shape.rep, shape.n})
      .permute({1, 0, 2, 3})
      .reshape({shape.groups, tokens * shape.rep, shape.n});
}

at::Tensor load_chunk(const ChunkSource& chunks, int64_t index, const RotationShape& shape, at::ScalarType dtype) {
  auto x = chunks.load(index);
  DQ_CHECK(x.dim() == 2 && x.size(1) == shape.width(), "calibration chunk ", index, " has shape ", x.sizes(),
           "; expected [tokens, ", shape.width(), "]");
  return x.to(dtype);
}

/// Summed Whip loss and its gradient with respect to R over some chunks.
struct WhipSums {
  double loss = 0;
  int64_t tokens = 0;
  at::Tensor grad;  ///< d(Σ Whip)/dR, [groups, n, n]

  void add(const at::Tensor& rotation, const at::Tensor& x, const RotationShape& shape) {
    auto heads = to_heads(x, shape);
    auto y = at::bmm(heads, rotation);
    loss += at::exp(-at::abs(y)).sum().item<double>();
    auto grad_part = at::bmm(heads.transpose(1, 2), whip_gradient(y));
    grad = grad.defined() ? grad.add_(grad_part) : grad_part;
    tokens += x.size(0);
  }
};

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSettings& settings, const at::Tensor& latent) {
  std::vector<at::Tensor> parameters = {latent};
  if (settings.optimizer == "adam") {
    return std::make_unique<torch::optim::Adam>(parameters, torch::optim::AdamOptions(settings.learning_rate));
  }
  return std::make_unique<torch::optim::SGD>(
      parameters, torch::optim::SGDOptions(settings.learning_rate).momentum(settings.momentum));
}

}  // namespace

nlohmann::json OptimizerSettings::to_json() const {
  return {{"optimizer", optimizer}, {"learning_rate", learning_rate}, {"momentum", momentum}, {"epochs", epochs},
          {"batch", batch},         {"accumulation", accumulation}};
}

void validate(const OptimizerSettings& settings, const std::string& what) {
  if (settings.optimizer != "sgd" && settings.optimizer != "adam") {
    throw UsageError(str(what, " optimizer ", settings.optimizer, ": use sgd or adam"));
  }
  if (!(settings.learning_rate > 0)) {
    throw UsageError(str(what, " learning rate ", settings.learning_rate, ": must be positive"));
  }
  if (settings.epochs <= 0 || settings.batch <= 0 || settings.accumulation <= 0) {
    throw UsageError(str(what, " epochs, batch and accumulation must be positive (got ", settings.epochs, ", ",
                         settings.batch, ", ", settings.accumulation, ")"));
  }
}

nlohmann::json RotationStats::to_json() const { return {{"whip", whip}, {"int4_error", int4_error}}; }

std::pair<double, at::Tensor> whip_qr_gradient(const at::Tensor& z, const RotationShape& shape, const at::Tensor& x) {
  at::AutoGradMode grad_mode(true);
  auto latent = z.detach().clone();
  latent.set_requires_grad(true);
  auto rotation = qr_orth(latent);

  WhipSums sums;
  {
    at::NoGradGuard no_grad;
    sums.add(rotation.detach(), x.to(z.scalar_type()), shape);
  }
  rotation.backward(sums.grad / static_cast<double>(sums.tokens));
  return {sums.loss / static_cast<double>(sums.tokens), latent.grad().detach()};
}

RotationStats measure_rotation(const at::Tensor& rotation, const RotationShape& shape, const ChunkSource& chunks) {
  at::NoGradGuard no_grad;
  quant::QuantSpec int4;  // symmetric 4-bit, one group per row, no clipping
  auto r = rotation.to(at::kFloat);
  double whip = 0;
  double error = 0;
  double energy = 0;
  int64_t tokens = 0;
  for (int64_t i = 0; i < chunks.count; ++i) {
    auto x = load_chunk(chunks, i, shape, at::kFloat);
    auto y = at::bmm(to_heads(x, shape), r).reshape({-1, shape.n});
    whip += at::exp(-at::abs(y)).sum().item<double>();
    error += (quant::fake_quantize(y, int4) - y).pow(2).sum().item<double>();
    energy += y.pow(2).sum().item<double>();
    tokens += x.size(0);
  }
  DQ_CHECK(tokens > 0, "no calibration tokens to measure a rotation on");
  return {whip / static_cast<double>(tokens), energy > 0 ? error / energy : 0.0};
}

TrainResult train_rotation(const at::Tensor& initial, const RotationShape& shape, const ChunkSource& chunks,
                           const OptimizerSettings& settings, uint64_t seed, const EpochCallback& on_epoch,
                           const std::string& label) {
  DQ_CHECK(initial.dim() == 3 && initial.size(0) == shape.groups && initial.size(1) == shape.n &&
               initial.size(2) == shape.n,
           "initial rotation has shape ", initial.sizes(), "; expected [", shape.groups, ", ", shape.n, ", ", shape.n,
           "]");
  DQ_CHECK(chunks.count > 0, "no calibration chunks to train a rotation on");
  TrainResult result;
  result.initial = measure_rotation(qr_orth(initial.to(at::kFloat)), shape, chunks);

  auto start = std::chrono::steady_clock::now();
  at::AutoGradMode grad_mode(true);
  auto latent = initial.to(at::kFloat).contiguous().clone();
  latent.set_requires_grad(true);
  auto optimizer = make_optimizer(settings, latent);
  int64_t batches = (chunks.count + settings.batch - 1) / settings.batch;

  for (int64_t epoch = 0; epoch < settings.epochs; ++epoch) {
    auto order = seeded_permutation(chunks.count, derive_seed(seed, static_cast<uint64_t>(epoch)));
    double loss_sum = 0;
    at::Tensor rotation;      // R = QR(Z).Q with its graph, fixed during one accumulation cycle
    at::Tensor step_grad;     // dLoss/dR accumulated over the cycle's batches
    int64_t pending = 0;

    for (int64_t b = 0; b < batches; ++b) {
      if (pending == 0) {
        rotation = qr_orth(latent);
      }
      WhipSums sums;
      {
        at::NoGradGuard no_grad;
        auto r = rotation.detach();
        int64_t end = std::min(chunks.count, (b + 1) * settings.batch);
        for (int64_t k = b * settings.batch; k < end; ++k) {
          sums.add(r, load_chunk(chunks, order[static_cast<size_t>(k)], shape, at::kFloat), shape);
        }
      }
      loss_sum += sums.loss / static_cast<double>(sums.tokens);
      auto scaled = sums.grad / static_cast<double>(sums.tokens * settings.accumulation);
      step_grad = step_grad.defined() ? step_grad.add_(scaled) : scaled;
      ++pending;

      if (pending == settings.accumulation || b + 1 == batches) {
        optimizer->zero_grad();
        rotation.backward(step_grad);
        optimizer->step();
        step_grad = at::Tensor();
        pending = 0;
      }
    }
    result.epoch_loss.push_back(loss_sum / static_cast<double>(batches));
    DQ_CHECK(std::isfinite(result.epoch_loss.back()), label, ": the Whip loss became ", result.epoch_loss.back(),
             " in epoch ", epoch + 1, "; the calibration activations contain NaN/Inf or the learning rate (",
             settings.learning_rate, ") is too high");
    if (on_epoch) {
      on_epoch(epoch, result.epoch_loss.back(), seconds_since(start));
    }
  }

  {
    at::NoGradGuard no_grad;
    result.rotation = qr_orth(latent.detach()).contiguous();
  }
  result.seconds = seconds_since(start);
  result.trained = measure_rotation(result.rotation, shape, chunks);
  return result;
}

}  // namespace dartquant::calibration
