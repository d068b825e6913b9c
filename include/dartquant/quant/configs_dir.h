// Location of the configs/ folder (quantization profiles and other JSON
// configuration) for the command-line tool.
#pragma once

#include <filesystem>

namespace dartquant::quant {

/// Finds the configs folder: $DARTQUANT_CONFIGS when set, else
/// `<folder of the running executable>/../configs` when it exists, else the
/// source tree's configs/ folder recorded at build time. Throws
/// dartquant::Error when $DARTQUANT_CONFIGS names a missing folder or when no
/// candidate exists, listing the paths tried.
std::filesystem::path locate_configs_dir();

}  // namespace dartquant::quant
