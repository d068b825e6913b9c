// Training one orthogonal rotation with the Whip loss and QR-Orth (METHOD.md
// section 5): latent Z in float32, R = QR(Z).Q in every step, SGD with
// momentum (or Adam) at a constant learning rate.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

namespace dartquant::calibration {

/// Optimizer settings of one kind of rotation (R1 or R2).
struct OptimizerSettings {
  std::string optimizer = "sgd";  ///< "sgd" (with momentum) or "adam"
  double learning_rate = 0.002;
  double momentum = 0.9;          ///< SGD only
  int64_t epochs = 10;
  int64_t batch = 64;             ///< chunks (sequences) per gradient evaluation
  int64_t accumulation = 1;       ///< batches per optimizer step

  nlohmann::json to_json() const;
};

/// Throws UsageError naming `what` for an unknown optimizer or a
/// non-positive learning rate, epoch count, batch or accumulation.
void validate(const OptimizerSettings& settings, const std::string& what);

/// Layout of a rotation R [groups, n, n] acting on a chunk [tokens, groups·rep·n]: the
/// columns form groups·rep heads of n columns, and head j is multiplied by
/// R[j / rep]. R1: groups = rep = 1, n = hidden size. R2: groups = KV heads,
/// rep = query heads per KV head, n = head dim.
struct RotationShape {
  int64_t groups = 1;
  int64_t rep = 1;
  int64_t n = 0;

  int64_t width() const { return groups * rep * n; }
};

/// Training data: `count` chunks of equal length; chunk i is loaded as
/// [tokens, width] float32 on the CPU.
struct ChunkSource {
  int64_t count = 0;
  std::function<at::Tensor(int64_t)> load;
};

/// Quality of a rotation on a set of chunks.
struct RotationStats {
  double whip = 0;        ///< mean Whip loss per token
  double int4_error = 0;  ///< Σ(Q(y) − y)² / Σy², Q: symmetric int4 per token and head, no clipping

  nlohmann::json to_json() const;
};

struct TrainResult {
  at::Tensor rotation;             ///< [groups, n, n] float32, R = QR(Z).Q of the final Z
  RotationStats initial;           ///< of the starting rotation
  RotationStats trained;           ///< of the result
  std::vector<double> epoch_loss;  ///< mean Whip loss per token over each epoch's batches
  double seconds = 0;              ///< optimization time, measurements excluded
};

/// Called after every epoch with its index (0-based), mean loss and elapsed seconds.
using EpochCallback = std::function<void(int64_t epoch, double loss, double seconds)>;

/// Trains R from `initial` [groups, n, n] (orthogonal; it is also the
/// starting latent Z). Each epoch visits the chunks in a seeded random order,
/// `settings.batch` chunks per batch. The batch loss is its mean Whip per
/// token divided by the accumulation steps. The optimizer steps every
/// `settings.accumulation` batches and after the last batch of an epoch. The
/// Whip gradient is computed chunk by chunk without autograd (memory bounded
/// by one chunk); autograd runs only through the QR decomposition. A
/// non-finite loss stops training with an Error naming `label` and the epoch.
TrainResult train_rotation(const at::Tensor& initial, const RotationShape& shape, const ChunkSource& chunks,
                           const OptimizerSettings& settings, uint64_t seed, const EpochCallback& on_epoch = {},
                           const std::string& label = "rotation");

/// Measures the Whip loss and int4 error of `rotation` [groups, n, n] over all chunks.
RotationStats measure_rotation(const at::Tensor& rotation, const RotationShape& shape, const ChunkSource& chunks);

/// Returns the loss value and dLoss/dZ of one Whip∘QR evaluation on `x` [tokens,
/// width] (mean Whip per token), with autograd through the QR only: the
/// function train_rotation optimizes, exposed for gradient checks. `z` may be
/// float64.
std::pair<double, at::Tensor> whip_qr_gradient(const at::Tensor& z, const RotationShape& shape, const at::Tensor& x);

}  // namespace dartquant::calibration
