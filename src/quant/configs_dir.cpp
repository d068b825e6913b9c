#include "dartquant/quant/configs_dir.h"

#include <cstdlib>
#include <string>
#include <system_error>

#include "dartquant/core/error.h"

namespace dartquant::quant {

std::filesystem::path locate_configs_dir() {
  namespace fs = std::filesystem;

  const char* from_environment = std::getenv("DARTQUANT_CONFIGS");
  if (from_environment != nullptr && *from_environment != '\0') {
    const fs::path dir(from_environment);
    DQ_CHECK(fs::is_directory(dir), "DARTQUANT_CONFIGS is set to ", dir.string(),
             ", which is not a folder; point it at the configs folder or unset it");
    return dir;
  }

  // Installed layout: bin/dartquant next to configs/. /proc/self/exe is Linux-only;
  // elsewhere this candidate is skipped.
  std::string tried;
  std::error_code error;
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    const fs::path beside = (executable.parent_path() / ".." / "configs").lexically_normal();
    if (fs::is_directory(beside)) {
      return beside;
    }
    tried += beside.string() + ", ";
  }

  const fs::path source_tree(DARTQUANT_SOURCE_CONFIG_DIR);
  if (fs::is_directory(source_tree)) {
    return source_tree;
  }
  tried += source_tree.string();
  throw Error(str("configs folder not found (tried ", tried, "); set DARTQUANT_CONFIGS to the folder that contains "
                  "profiles/"));
}

}  // namespace dartquant::quant
