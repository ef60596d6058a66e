// A progress bar on stderr with rate and ETA (a line per 10% when stderr is not a terminal).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace padbench {

class ProgressBar {
 public:
  ProgressBar(int64_t total, std::string label);
  ~ProgressBar();
  // Sets the number of finished units; `status` is shown after the counts.
  void Update(int64_t done, const std::string& status = "");
  // Prints the final state and a newline (once).
  void Finish(const std::string& status = "");

 private:
  void Draw(const std::string& status, bool final);
  int64_t total_, done_ = 0;
  std::string label_;
  bool tty_, finished_ = false;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace padbench
