#include "dartquant/io/int_packing.h"

#include <ATen/ATen.h>

#include "dartquant/core/error.h"

namespace dartquant::io {
namespace {

constexpr int64_t kWordValues = int64_t{1} << 32;

/// For the elements 0..columns−1 of a row: the word each starts in and the
/// place value 2^(bit offset in that word), both int64 [columns] on `device`.
/// Multiplying and dividing by place values does the shifts, so no tensor
/// shift operator is needed (they differ between libtorch versions).
std::pair<at::Tensor, at::Tensor> element_positions(int64_t columns, int bits, const at::Device& device) {
  auto first_bit = at::arange(columns, at::TensorOptions().dtype(at::kLong).device(device)) * bits;
  auto word = at::div(first_bit, 32, "floor");
  auto place = at::pow(2, first_bit - word * 32).to(at::kLong);
  return {word, place};
}

void check_bits(int bits, const std::string& what) {
  DQ_CHECK(bits >= 1 && bits <= 8, what, ": packing supports 1..8 bits, got ", bits);
}

}  // namespace

int64_t packed_words(int64_t columns, int bits) { return (columns * bits + 31) / 32; }

at::Tensor pack_codes(const at::Tensor& codes, int bits, const std::string& what) {
  check_bits(bits, what);
  DQ_CHECK(codes.dim() == 2 && !at::isFloatingType(codes.scalar_type()) && codes.scalar_type() != at::kBool, what,
           ": expected integer codes [rows, columns], got ", codes.scalar_type(), " ", codes.sizes());
  const int64_t offset = int64_t{1} << (bits - 1);
  const int64_t rows = codes.size(0);
  const int64_t columns = codes.size(1);
  const int64_t words = packed_words(columns, bits);

  auto unsigned_codes = codes.to(at::kLong) + offset;
  if (unsigned_codes.numel() > 0) {
    auto low = unsigned_codes.min().item<int64_t>();
    auto high = unsigned_codes.max().item<int64_t>();
    DQ_CHECK(low >= 0 && high < 2 * offset, what, ": codes span [", low - offset, ", ", high - offset,
             "], outside the signed ", bits, "-bit range [", -offset, ", ", offset - 1, "]");
  }

  // Each element's bits shifted to its offset span at most 39 bits: the low 32
  // go to its word, the rest to the next. Bit ranges never overlap, so
  // adding the pieces is a bitwise OR.
  auto [word, place] = element_positions(columns, bits, codes.device());
  auto shifted = unsigned_codes * place;
  auto high_part = at::div(shifted, kWordValues, "floor");
  auto low_part = shifted - high_part * kWordValues;
  auto stream = at::zeros({rows, words + 1}, unsigned_codes.options());
  stream.index_add_(1, word, low_part);
  stream.index_add_(1, word + 1, high_part);
  auto packed = stream.narrow(1, 0, words);

  // Words with the top bit set are negative as int32: subtract 2^32 first so
  // the conversion keeps the bit pattern.
  packed = at::where(packed >= (kWordValues / 2), packed - kWordValues, packed);
  return packed.to(at::kInt).contiguous();
}

at::Tensor unpack_codes(const at::Tensor& packed, int bits, int64_t columns, const std::string& what) {
  check_bits(bits, what);
  DQ_CHECK(packed.dim() == 2 && packed.scalar_type() == at::kInt, what,
           ": expected int32 packed words [rows, words], got ", packed.scalar_type(), " ", packed.sizes());
  const int64_t words = packed_words(columns, bits);
  DQ_CHECK(columns >= 0 && packed.size(1) == words, what, ": ", packed.size(1), " packed words per row, but ",
           columns, " columns of ", bits, "-bit values need ", words);
  const int64_t offset = int64_t{1} << (bits - 1);
  const int64_t mask = (int64_t{1} << bits) - 1;

  // Reinterpret each word as unsigned and append a zero word. An element
  // spans its word and at most the low 8 bits of the next one, so reading
  // those as one value fits easily in int64.
  auto unsigned_words = packed.to(at::kLong).bitwise_and(at::Scalar(kWordValues - 1));
  auto stream = at::constant_pad_nd(unsigned_words, {0, 1}, 0);
  auto [word, place] = element_positions(columns, bits, packed.device());
  auto next_low_byte = stream.index_select(1, word + 1).bitwise_and(at::Scalar(int64_t{0xFF}));
  auto pair = stream.index_select(1, word) + next_low_byte * kWordValues;
  auto codes = at::div(pair, place, "floor").bitwise_and(at::Scalar(mask)) - offset;
  return codes.to(at::kInt);
}

}  // namespace dartquant::io
