#pragma once

#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace kesm::bench {

/// A helper process forked from the bench before it starts any thread, so
/// its CPU time is not the consumer's. It dies with the bench
/// (PR_SET_PDEATHSIG) and is killed by the destructor.
class child_process {
public:
  child_process() = default;
  child_process(pid_t pid, std::string first_line)
    : pid_(pid), first_line_(std::move(first_line)) {
    // nop
  }
  child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      first_line_(std::move(other.first_line_)) {
    // nop
  }
  child_process& operator=(child_process&& other) noexcept;
  ~child_process();

  bool ok() const noexcept {
    return pid_ > 0 && !first_line_.empty();
  }
  /// What the child printed first: the bootstrap list, or the URL.
  const std::string& first_line() const noexcept {
    return first_line_;
  }
  pid_t pid() const noexcept {
    return pid_;
  }

private:
  pid_t pid_ = -1;
  std::string first_line_;
};

struct dataset;

/// Forks the embedded broker (one broker) with `topics` (name, partitions)
/// and loads `data` into it from the same child process, so neither the
/// broker's nor the loader's CPU and memory count against the consumers.
child_process fork_broker(const std::vector<std::pair<std::string, int>>& topics,
                          std::vector<dataset>& data);

/// Forks the bench's HTTP function: keep-alive, answers `{}`. With
/// `parse`, it first parses each event with simdjson's DOM parser (400 on
/// an event that is not JSON); without, it only reads the body.
child_process fork_function_server(bool parse = true);

} // namespace kesm::bench
