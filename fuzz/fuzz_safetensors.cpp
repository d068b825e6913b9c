// Fuzz target: safetensors header validation (SafetensorsFile::open with parse_header and the
// strict JSON reader, src/io/).
//
// Input layout, so that mutations of the header JSON keep the 8-byte length field consistent:
// - first byte 0x00: the rest of the input is written unchanged as the file, which also
//   exercises the length field checks;
// - otherwise: header JSON, then optionally a 0x00 byte and the data section. The target writes
//   the little-endian header length, the JSON and the data section. Raw 0x00 cannot occur in
//   valid JSON text, so the split is unambiguous for every header that could be accepted.
// A file that opens has every tensor loaded and viewed, which checks the validated offsets
// against the mapping. Rejection must raise dartquant::Error.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dartquant/io/safetensors_file.h"
#include "fuzz_support.h"

namespace {

std::string build_file(std::string_view input) {
  if (!input.empty() && input.front() == '\0') {
    return std::string(input.substr(1));
  }
  const size_t split = input.find('\0');
  const std::string_view header = input.substr(0, split);
  const std::string_view data = split == std::string_view::npos ? std::string_view() : input.substr(split + 1);

  std::string file;
  uint64_t length = header.size();
  for (int byte = 0; byte < 8; ++byte) {
    file.push_back(static_cast<char>((length >> (8 * byte)) & 0xff));
  }
  file.append(header);
  file.append(data);
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // open() warns about uncovered data bytes and view() about misaligned data; both are expected.
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dartquant;
  const auto path = fuzz::scratch_dir() / "model.safetensors";
  fuzz::write_file(path, build_file(fuzz::as_text(data, size)));
  try {
    const auto file = io::SafetensorsFile::open(path);
    for (const auto& info : file->tensors()) {
      // The validated shape must match the bytes read; a mismatch is a finding.
      const auto loaded = file->load(info.name);
      const auto viewed = file->view(info.name);
      if (loaded.numel() != info.numel() || viewed.numel() != info.numel() ||
          static_cast<uint64_t>(loaded.nbytes()) != info.nbytes()) {
        std::fprintf(stderr, "tensor %s: loaded %lld elements, header says %lld\n", info.name.c_str(),
                     static_cast<long long>(loaded.numel()), static_cast<long long>(info.numel()));
        std::abort();
      }
    }
  } catch (const Error&) {
    // The documented rejection of an invalid file or tensor.
  }
  return 0;
}
