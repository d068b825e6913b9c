#include "dartquant/core/memory.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace dartquant {

int64_t peak_rss_bytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

int64_t current_rss_bytes() {
  long total_pages = 0;
  long resident_pages = 0;
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) {
    return 0;
  }
  int fields = std::fscanf(statm, "%ld %ld", &total_pages, &resident_pages);
  std::fclose(statm);
  return fields == 2 ? static_cast<int64_t>(resident_pages) * sysconf(_SC_PAGESIZE) : 0;
}

void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

std::string format_mib(int64_t bytes) {
  if (bytes < (int64_t{1} << 20)) {
    return std::to_string(bytes) + " bytes";  // so that a tiny budget does not read as 0 MiB
  }
  return std::to_string((bytes + (1 << 19)) >> 20) + " MiB";
}

}  // namespace dartquant
