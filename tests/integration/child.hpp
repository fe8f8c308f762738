#pragma once

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

// `kesm` as a child process, for the tests of the executable.
namespace kesm::test {

/// `kesm` run as a child process with stdout (and optionally stderr) on a
/// pipe. Killed on destruction if still running.
struct child {
  /// Where stderr went (a file under TempDir), when not discarded.
  std::string err_path;

  pid_t pid = -1;
  FILE* out = nullptr;

  explicit child(std::vector<std::string> args, bool quiet_stderr = true,
                 std::string stderr_file = {})
      : err_path(std::move(stderr_file)) {
    int fds[2];
    if (pipe(fds) != 0)
      return;
    pid = fork();
    if (pid == 0) {
      dup2(fds[1], STDOUT_FILENO);
      if (quiet_stderr)
        freopen("/dev/null", "w", stderr);
      else if (!err_path.empty())
        freopen(err_path.c_str(), "w", stderr);
      close(fds[0]);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(KESM_BINARY));
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(KESM_BINARY, argv.data());
      _exit(127);
    }
    close(fds[1]);
    out = fdopen(fds[0], "r");
  }

  ~child() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (out != nullptr)
      fclose(out);
  }

  std::string line() {
    char buf[4096];
    if (fgets(buf, sizeof(buf), out) == nullptr)
      return {};
    std::string s(buf);
    if (!s.empty() && s.back() == '\n')
      s.pop_back();
    return s;
  }

  /// `kesm serve`'s API port, from its first stdout line (0 if absent).
  int api_port() {
    auto l = line();
    auto at = l.find("127.0.0.1:");
    return at == std::string::npos ? 0 : std::atoi(l.c_str() + at + 10);
  }

  std::string rest() {
    std::string all;
    while (true) {
      auto l = line();
      if (l.empty() && feof(out))
        return all;
      all += l + "\n";
    }
  }

  /// Sends `sig` and waits; returns the exit code (or 128+signal).
  int stop(int sig) {
    kill(pid, sig);
    return wait();
  }

  int wait() {
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

/// `kesm serve` arguments on a free API port and a fresh store file.
inline std::vector<std::string> serve_args(const std::string& config,
                                           const std::string& name) {
  auto store = ::testing::TempDir() + name + ".db";
  for (auto suffix : {"", "-wal", "-shm"})
    std::remove((store + suffix).c_str());
  return {"serve",       "--config", config,           "--api",
          "127.0.0.1:0", "--store",  "sqlite:" + store};
}

inline std::string write_config(const std::string& name,
                                const std::string& text) {
  auto path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

/// The text of a file (a child's stderr, say).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace kesm::test
