// Applying the rotations R1–R4 to a preprocessed model (norms folded).
//
// Conventions: activations are row vectors. An online transform x' = x·T in
// front of a Linear is compensated offline by W ← W·T (T orthogonal). All
// offline algebra runs in the weights' dtype: convert them to float64 first.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "dartquant/model/causal_lm.h"

namespace dartquant::rotation {

/// R1 on the residual stream, x' = x·R1 for R1 [hidden, hidden]: embed ← E·R1;
/// W ← W·R1 for every Linear that reads the residual stream (q, k, v, gate,
/// up, experts' and shared experts' gate/up, routers, lm_head); W ← R1ᵀ·W for
/// every Linear that writes it (o_proj, every down projection).
void apply_r1(model::CausalLM& model, const at::Tensor& r1);

/// The parts of apply_r1 outside the decoder layers (embeddings, lm_head),
/// and the part of one layer, for a model rotated one layer at a time.
void apply_r1_to_head(model::CausalLM& model, const at::Tensor& r1);
void apply_r1(model::DecoderLayer& layer, const at::Tensor& r1);

/// Applies DartQuant's offline R2 of one layer, r2 [kv_heads, head_dim, head_dim].
/// The v_proj output rows of KV head g become R2[g]ᵀ·W_g, and the o_proj
/// input columns of query head j become W_j·R2[j / n_rep]. No online
/// transform is needed.
void apply_r2_offline(model::DecoderLayer& layer, const model::ModelConfig& config, const at::Tensor& r2);

/// QuaRot's R2 of one layer: v_proj rows per head get H_{d_h}/√d_h offline,
/// and the o_proj input gets an online Hadamard across heads
/// ((H_h ⊗ I_{d_h})/√h) compensated offline in o_proj.
void apply_quarot_r2(model::DecoderLayer& layer, const model::ModelConfig& config);

/// The online half of apply_quarot_r2 alone, for a model whose weights were
/// rotated before it was saved.
void install_quarot_r2_online(model::DecoderLayer& layer, const model::ModelConfig& config);

/// R4 on the input of every down projection (dense MLP, experts, shared
/// experts): W_down ← W_down·Mᵀ offline and x ← x·Mᵀ online, M the normalized
/// Hadamard of the MLP's inner width (fast transform at run time).
void apply_r4(model::CausalLM& model);
void apply_r4(model::DecoderLayer& layer);

/// The online half of apply_r4 alone (x ← x·Mᵀ before every down projection),
/// for a model whose weights were rotated before it was saved.
void install_r4_online(model::CausalLM& model);
void install_r4_online(model::DecoderLayer& layer);

/// R3: q ← q·H_{d_h}/√d_h and k ← k·H_{d_h}/√d_h after RoPE (online only;
/// it preserves q·kᵀ). Needed when the KV cache is quantized.
void apply_r3(model::CausalLM& model);
void apply_r3(model::DecoderLayer& layer, const model::ModelConfig& config);

}  // namespace dartquant::rotation
