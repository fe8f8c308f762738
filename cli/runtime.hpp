#pragma once

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

#include <caf/all.hpp>

namespace kesm::cli {

/// Blocks SIGINT and SIGTERM in the calling thread and every thread it
/// starts afterwards, so `wait_for_signal` can take them synchronously.
/// Call first thing in `main`.
void block_stop_signals();

/// Waits up to `timeout` for SIGINT/SIGTERM; true when one arrived.
bool wait_for_signal(std::chrono::milliseconds timeout);

/// The CAF configuration kesm's commands share.
struct actor_config : caf::actor_system_config {
  actor_config();
};

/// Reads a whole file; false (and a message in `err`) when it cannot.
bool read_file(const std::string& path, std::string& out, std::string& err);

/// Milliseconds since the epoch.
int64_t now_ms();

} // namespace kesm::cli

