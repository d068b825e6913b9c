// Process memory figures for logs and benchmark records.
#pragma once

#include <cstdint>

namespace dartquant {

/// Peak resident set size of this process so far, in bytes (getrusage).
int64_t peak_rss_bytes();

}  // namespace dartquant
