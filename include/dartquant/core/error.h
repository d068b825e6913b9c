// Error types and the DQ_CHECK macro used across the library.
//
// Library code throws, and the CLI catches once in main and maps the type to
// an exit code: 0 success, 1 runtime failure (Error), 2 usage error (UsageError).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace dartquant {

/// A runtime failure caused by bad input or environment (exit code 1).
/// The message names the file, field or value and the remedy.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A command-line usage error: unknown flag, missing or invalid option value
/// (exit code 2).
class UsageError : public Error {
 public:
  using Error::Error;
};

namespace detail {

template <typename... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

}  // namespace detail

/// Builds a message from streamable parts: str("tensor ", name, " has ", n, " rows").
template <typename... Parts>
std::string str(Parts&&... parts) {
  return detail::concat(std::forward<Parts>(parts)...);
}

}  // namespace dartquant

/// Throws dartquant::Error with the concatenated parts when `cond` is false.
#define DQ_CHECK(cond, ...)                                       \
  do {                                                            \
    if (!(cond)) {                                                \
      throw ::dartquant::Error(::dartquant::str(__VA_ARGS__));    \
    }                                                             \
  } while (false)
