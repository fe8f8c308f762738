#include "bench/measure.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include <mimalloc.h>
#include <sys/resource.h>

namespace kesm::bench {

process_usage usage_now() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  process_usage u;
  u.cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
          + static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec)
              / 1e6;
  u.switches = static_cast<uint64_t>(ru.ru_nvcsw + ru.ru_nivcsw);
  u.faults = static_cast<uint64_t>(ru.ru_minflt);
  return u;
}

double process_cpu_seconds(pid_t pid) {
  if (pid <= 0)
    return -1; // none (no function server, no broker process)
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text))
    return -1;
  // The command name (field 2) may hold spaces: count fields after ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14)
      utime = std::stoull(field);
    else if (i == 15)
      stime = std::stoull(field);
  }
  auto ticks = sysconf(_SC_CLK_TCK);
  return ticks > 0 ? static_cast<double>(utime + stime)
                       / static_cast<double>(ticks)
                   : -1;
}

std::vector<std::pair<std::string, std::string>>
name_values(const std::string& text, char sep) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t at = 0; at < text.size();) {
    auto end = text.find(sep, at);
    auto item = text.substr(at, end == std::string::npos ? std::string::npos
                                                         : end - at);
    auto eq = item.find('=');
    if (eq != std::string::npos)
      out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    at = end == std::string::npos ? text.size() : end + 1;
  }
  return out;
}

bool reset_peak_rss() {
  // Give freed pages back first, so the peak starts from live memory.
  mi_collect(true);
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  return static_cast<bool>(f);
}

double peak_rss_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

double now_seconds() {
  return std::chrono::duration<double>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

} // namespace kesm::bench
