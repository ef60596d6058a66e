#include "policies/profile.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <fmt/format.h>
#include <torch/csrc/autograd/profiler_legacy.h>

namespace padbench {

OpProfile ProfileOps(int calls, const std::function<void()>& fn, const std::function<void()>& between) {
  namespace prof = torch::autograd::profiler;
  OpProfile out;
  out.calls = calls;
  std::map<std::string, OpProfile::Row> rows;
  for (int call = 0; call < calls; ++call) {
    prof::thread_event_lists events;
    const auto start = std::chrono::steady_clock::now();
    {
      prof::TLSLegacyProfilerGuard guard(
          torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU),
          [&](const prof::thread_event_lists& e) { events = e; });
      fn();
    }
    out.wall_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / calls;
    if (between) between();
    for (const auto& list : events) {
      std::vector<const prof::LegacyEvent*> open;  // ranges nest on one thread
      for (const prof::LegacyEvent& e : list) {
        if (e.kind() == prof::EventKind::PushRange) {
          open.push_back(&e);
        } else if (e.kind() == prof::EventKind::PopRange && !open.empty()) {
          const prof::LegacyEvent* begin = open.back();
          open.pop_back();
          if (!open.empty()) continue;  // inside another operation: counted there
          OpProfile::Row& row = rows[begin->name()];
          row.name = begin->name();
          row.ms += begin->cpuElapsedUs(e) / 1e3 / calls;
          row.count += 1.0 / calls;
        }
      }
    }
  }
  for (auto& [name, row] : rows) out.rows.push_back(row);
  std::sort(out.rows.begin(), out.rows.end(), [](const auto& a, const auto& b) { return a.ms > b.ms; });
  return out;
}

std::string FormatOpProfile(const std::string& what, const OpProfile& p, int top) {
  std::string out = fmt::format("| {} ({} calls profiled) | ms per call | share | times per call |\n|---|---|---|---|\n",
                                what, p.calls);
  double listed = 0, rest = 0, rest_count = 0;
  for (size_t i = 0; i < p.rows.size(); ++i) {
    const OpProfile::Row& r = p.rows[i];
    if (int(i) < top) {
      out += fmt::format("| `{}` | {:.2f} | {:.0f}% | {:.0f} |\n", r.name, r.ms, 100 * r.ms / p.wall_ms, r.count);
      listed += r.ms;
    } else {
      rest += r.ms;
      rest_count += r.count;
    }
  }
  if (rest > 0) {
    out += fmt::format("| {} other operators | {:.2f} | {:.0f}% | {:.0f} |\n", p.rows.size() - size_t(top), rest,
                       100 * rest / p.wall_ms, rest_count);
  }
  const double outside = std::max(0.0, p.wall_ms - listed - rest);
  out += fmt::format("| outside any operator (padbench's own loops, the profiler) | {:.2f} | {:.0f}% | |\n", outside,
                     100 * outside / p.wall_ms);
  out += fmt::format("| **Act, profiled** | **{:.2f}** | 100% | |\n", p.wall_ms);
  return out;
}

}  // namespace padbench
