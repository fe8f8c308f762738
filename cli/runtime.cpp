#include "cli/runtime.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <pthread.h>

#include "transport/log.hpp"

namespace kesm::cli {

namespace {

sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

} // namespace

void block_stop_signals() {
  auto set = stop_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_signal(std::chrono::milliseconds timeout) {
  auto set = stop_set();
  timespec ts;
  ts.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  ts.tv_nsec = static_cast<long>((timeout.count() % 1000) * 1000000);
  int sig = sigtimedwait(&set, nullptr, &ts);
  return sig > 0 ? sig : 0;
}

stop_watchdog::stop_watchdog(std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  thread_ = std::thread([this, until, deadline] {
    while (!done_.load()) {
      int sig = wait_for_signal(std::chrono::milliseconds(100));
      if (done_.load())
        return;
      if (sig == SIGINT || sig == SIGTERM) {
        transport::log(transport::log_level::warning, "serve",
                       "second signal: exiting now without waiting for"
                       " in-flight batches (their records are delivered"
                       " again)");
        std::_Exit(1);
      }
      if (std::chrono::steady_clock::now() >= until) {
        transport::log(transport::log_level::error, "serve",
                       "stop did not finish within "
                         + std::to_string(deadline.count())
                         + " ms; exiting now (uncommitted records are"
                           " delivered again)");
        std::_Exit(1);
      }
    }
  });
}

stop_watchdog::~stop_watchdog() {
  done_.store(true);
  thread_.join();
}

bool read_file(const std::string& path, std::string& out, std::string& err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err = "cannot read " + path + ": no such file or not readable";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace kesm::cli

