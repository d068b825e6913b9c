// Model preprocessing before rotations: embedding mean-centering and RMSNorm
// folding. All algebra runs in float64 (call convert_weights first).
#pragma once

#include <c10/core/ScalarType.h>

#include "dartquant/model/causal_lm.h"

namespace dartquant::rotation {

/// Converts every weight of the model (embeddings, norms, every Linear) to
/// `dtype` in place. A tied lm_head gets its own copy, so later steps may
/// change the head and the embedding independently.
void convert_weights(model::CausalLM& model, c10::ScalarType dtype);

/// The parts of convert_weights outside the decoder layers (embeddings, final
/// norm, lm_head, untied), and the part of one layer.
void convert_head_weights(model::CausalLM& model, c10::ScalarType dtype);
void convert_weights(model::DecoderLayer& layer, c10::ScalarType dtype);

/// Subtracts each embedding row's own mean. Exactly invariant only for
/// LayerNorm models; for RMSNorm models it changes the function slightly, as
/// both reference implementations accept.
void center_embeddings(model::CausalLM& model);

/// Folds each RMSNorm weight γ into the Linears that read its output
/// (W ← W·diag(γ)), so the norms become weight-free. input_layernorm goes
/// into q, k and v. post_attention_layernorm goes into gate and up of the
/// dense MLP, of every expert and of the shared experts, and into the MoE
/// router. The final norm goes into lm_head.
void fold_norms(model::CausalLM& model);

/// fold_norms for the final norm alone, and for one layer's two norms.
void fold_final_norm(model::CausalLM& model);
void fold_norms(model::DecoderLayer& layer);

/// Brings one layer to the state the rotations need: float64 weights, norms
/// folded. Does nothing to a layer that is in that state already.
void prepare_for_rotation(model::DecoderLayer& layer);

}  // namespace dartquant::rotation
