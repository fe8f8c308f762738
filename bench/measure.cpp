#include "bench/measure.hpp"

#include <chrono>
#include <fstream>
#include <string>

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

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
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
