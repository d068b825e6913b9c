// Fuzz target: model config.json (ModelConfig::load, src/model/config.cpp).
//
// The input is the whole config.json. A rejected file must raise dartquant::Error.
#include <cstddef>
#include <cstdint>

#include "dartquant/model/config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dartquant;
  const auto& dir = fuzz::scratch_dir();
  fuzz::write_file(dir / "config.json", fuzz::as_text(data, size));
  try {
    const auto config = model::ModelConfig::load(dir);
    (void)config;
  } catch (const Error&) {
    // The documented rejection of an invalid config.
  }
  return 0;
}
