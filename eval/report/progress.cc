#include "eval/report/progress.h"

#include <unistd.h>

#include <cstdio>
#include <exception>

#include <fmt/format.h>

namespace padbench {
namespace {

std::string FormatSeconds(double s) {
  if (s < 0 || s > 360000) return "?";
  const int t = int(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60) : fmt::format("{}:{:02}", t / 60, t % 60);
}

}  // namespace

ProgressBar::ProgressBar(int64_t total, std::string label)
    : total_(total), label_(std::move(label)), tty_(isatty(fileno(stderr))), start_(std::chrono::steady_clock::now()) {}

// Unwinding from an error: the error is the last line the user should see.
ProgressBar::~ProgressBar() {
  if (std::uncaught_exceptions() == 0) Finish();
}

void ProgressBar::Update(int64_t done, const std::string& status) {
  done_ = done;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
    last_draw_ = now;
    Draw(status, false);
  } else {
    const int decile = total_ > 0 ? int(10 * done / total_) : 10;
    if (decile == last_decile_) return;
    last_decile_ = decile;
    Draw(status, false);
  }
}

void ProgressBar::Finish(const std::string& status) {
  if (finished_) return;
  finished_ = true;
  // Without a terminal the 100% line has already been printed by Update.
  if (tty_ || last_decile_ != 10) Draw(status, true);
}

void ProgressBar::Draw(const std::string& status, bool final) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double frac = total_ > 0 ? double(done_) / total_ : 1.0;
  const double rate = elapsed > 0 ? done_ / elapsed : 0;
  const std::string eta = rate > 0 ? FormatSeconds((total_ - done_) / rate) : "?";
  constexpr int kWidth = 28;
  const int filled = int(frac * kWidth);
  const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  const std::string line = fmt::format("{} [{}] {}/{} {:.1f}/s elapsed {} eta {}{}{}", label_, bar, done_, total_, rate,
                                       FormatSeconds(elapsed), final ? "0:00" : eta, status.empty() ? "" : "  ", status);
  if (tty_) {
    fmt::print(stderr, "\r\033[K{}{}", line, final ? "\n" : "");
  } else {
    fmt::print(stderr, "{}\n", line);
  }
  std::fflush(stderr);
}

}  // namespace padbench
