// Packing of low-bit integer codes into int32 words, as in the compressed-tensors
// "pack-quantized" format (compressed-tensors 0.20, pack_to_int32): along the
// last dimension each row is one little-endian bit stream in which element k
// occupies bits [k·bits, (k + 1)·bits). For 4-bit codes, element k sits in word
// k / 8 at bits 4·(k mod 8) to 4·(k mod 8) + 3; for widths that do not divide
// 32 an element may straddle two words. Signed codes are offset by 2^(bits−1)
// to unsigned before packing, and a row is padded with zero bits to whole words.
#pragma once

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>

namespace dartquant::io {

/// int32 words that hold `columns` values of `bits` bits: ceil(columns·bits / 32).
int64_t packed_words(int64_t columns, int bits);

/// Packs `codes` [rows, columns] (any integer dtype) into int32 [rows,
/// packed_words(columns, bits)]. Bits 1..8. Each code must lie in
/// [−2^(bits−1), 2^(bits−1) − 1]; throws dartquant::Error naming `what` otherwise.
at::Tensor pack_codes(const at::Tensor& codes, int bits, const std::string& what);

/// Inverse of pack_codes: int32 `packed` [rows, words] to int32 codes [rows,
/// columns] in [−2^(bits−1), 2^(bits−1) − 1]. Throws dartquant::Error naming
/// `what` when the dtype or `words` does not fit `columns`.
at::Tensor unpack_codes(const at::Tensor& packed, int bits, int64_t columns, const std::string& what);

}  // namespace dartquant::io
