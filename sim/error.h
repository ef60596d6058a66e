// padbench::Error for bad input, PADBENCH_CHECK for broken invariants.
#pragma once

#include <stdexcept>
#include <string>

namespace padbench {

// Bad input (a file, a flag, a config, a model): the message says what and where.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace internal {
[[noreturn]] void CheckFailed(const char* expr, const char* file, int line, const std::string& msg);
}  // namespace internal

}  // namespace padbench

// Always-on invariant check; failing it is a bug in padbench, not in the input.
#define PADBENCH_CHECK(expr, ...)                                                  \
  do {                                                                             \
    if (!(expr)) ::padbench::internal::CheckFailed(#expr, __FILE__, __LINE__,      \
                                                   std::string{__VA_ARGS__});      \
  } while (false)
