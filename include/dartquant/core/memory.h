// Process memory figures for logs and benchmark records.
#pragma once

#include <cstdint>
#include <string>

namespace dartquant {

/// Peak resident set size of this process so far, in bytes (getrusage).
int64_t peak_rss_bytes();

/// Resident set size of this process now, in bytes (/proc/self/statm).
int64_t current_rss_bytes();

/// Returns freed heap memory to the operating system (glibc's malloc_trim).
/// Freed blocks below glibc's mmap threshold otherwise stay in the resident
/// set, and a model processed layer by layer would still grow with depth.
void release_free_memory();

/// Formats bytes as MiB with no decimals, e.g. "1536 MiB", or as bytes below 1 MiB.
std::string format_mib(int64_t bytes);

}  // namespace dartquant
