#include "transport/log.hpp"

#include "codecs/event_writer.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>

namespace kesm::transport {

namespace {

int initial_threshold() {
  // KESM_LOG_LEVEL=debug|info|warning|error overrides the default (info).
  const char* env = std::getenv("KESM_LOG_LEVEL");
  std::string v = env != nullptr ? env : "";
  if (v == "debug")
    return static_cast<int>(log_level::debug);
  if (v == "warning")
    return static_cast<int>(log_level::warning);
  if (v == "error")
    return static_cast<int>(log_level::error);
  return static_cast<int>(log_level::info);
}

std::atomic<int> threshold{initial_threshold()};
std::atomic<bool> json_lines{[] {
  const char* env = std::getenv("KESM_LOG_FORMAT");
  return env != nullptr && std::string(env) == "json";
}()};
bool env_set = std::getenv("KESM_LOG_LEVEL") != nullptr;
std::mutex out_mtx;
std::function<void(const std::string&)> out_tap; // guarded by out_mtx

const char* name(log_level l) {
  switch (l) {
    case log_level::debug:
      return "DEBUG";
    case log_level::info:
      return "INFO";
    case log_level::warning:
      return "WARN";
    default:
      return "ERROR";
  }
}

} // namespace

void set_log_level(log_level level) {
  if (env_set)
    return; // the operator's choice wins
  threshold = static_cast<int>(level);
}

void log(log_level level, std::string_view component, std::string_view text) {
  if (static_cast<int>(level) < threshold.load(std::memory_order_relaxed))
    return;
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              now.time_since_epoch())
              .count()
            % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[8];
  std::snprintf(frac, sizeof(frac), ".%03dZ", static_cast<int>(ms));
  std::string line;
  line.reserve(96 + text.size());
  if (json_lines.load(std::memory_order_relaxed)) {
    auto str = [&](std::string_view v) {
      codecs::event_writer::append_json_string(line, v);
    };
    line += "{\"time\":\"";
    line += stamp;
    line += frac;
    line += "\",\"level\":";
    std::string lower = name(level);
    for (auto& c : lower)
      c = static_cast<char>(c - 'A' + 'a');
    str(lower == "warn" ? "warning" : lower);
    line += ",\"component\":";
    str(component);
    if (component.rfind("mapping ", 0) == 0) {
      line += ",\"uuid\":";
      str(component.substr(8));
    }
    line += ",\"message\":";
    str(text);
    line += "}\n";
  } else {
    line += stamp;
    line += frac;
    line += ' ';
    line += name(level);
    line += ' ';
    line += component;
    line += ": ";
    line += text;
    line += '\n';
  }
  std::lock_guard<std::mutex> guard{out_mtx};
  std::fwrite(line.data(), 1, line.size(), stderr);
  if (out_tap)
    out_tap(line.substr(0, line.size() - 1));
}

void set_log_format(log_format format) {
  json_lines = format == log_format::json;
}

void set_log_tap(std::function<void(const std::string&)> tap) {
  std::lock_guard<std::mutex> guard{out_mtx};
  out_tap = std::move(tap);
}

} // namespace kesm::transport
