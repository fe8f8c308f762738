#pragma once

#include <atomic>
#include <chrono>
#include <thread>
#include <csignal>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/atoms.hpp"

namespace kesm::cli {

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and every
/// thread it starts afterwards, so `wait_for_signal` can take them
/// synchronously. Call first thing in `main`.
void block_stop_signals();

/// Waits up to `timeout` for SIGINT/SIGTERM/SIGHUP; returns the signal, or
/// 0 when none arrived.
int wait_for_signal(std::chrono::milliseconds timeout);

/// Watches the stop that follows a first SIGINT/SIGTERM, on a thread of
/// its own: a second signal, or a stop running past `deadline`, ends the
/// process at once (exit code 1) with one log line. The stop is finished
/// when the object is destroyed.
class stop_watchdog {
public:
  explicit stop_watchdog(std::chrono::milliseconds deadline);
  ~stop_watchdog();
  stop_watchdog(const stop_watchdog&) = delete;
  stop_watchdog& operator=(const stop_watchdog&) = delete;

private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

/// The CAF configuration kesm's commands share.
using actors::actor_config;

/// Reads a whole file; false (and a message in `err`) when it cannot.
bool read_file(const std::string& path, std::string& out, std::string& err);

/// Milliseconds since the epoch.
int64_t now_ms();

} // namespace kesm::cli

