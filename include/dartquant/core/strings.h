// Small string helpers shared across the library.
#pragma once

#include <string>

namespace dartquant {

/// Returns whether `text` ends with `suffix`.
inline bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace dartquant
