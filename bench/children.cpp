#include "bench/children.hpp"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include <simdjson.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/runs.hpp"
#include "transport/embedded_broker.hpp"
#include "transport/function_server.hpp"

namespace kesm::bench {

namespace {

/// Forks; the child runs `body(write_fd)` and never returns.
template <class F>
child_process spawn(F body) {
  int fds[2];
  if (pipe(fds) != 0)
    return {};
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(fds[0]);
    body(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string line;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n')
    line.push_back(c);
  close(fds[0]);
  return child_process{pid, line};
}

void say(int fd, const std::string& s) {
  auto line = s + "\n";
  if (write(fd, line.data(), line.size()) < 0)
    _exit(1);
}

void wait_forever() {
  for (;;)
    pause();
}

} // namespace

child_process& child_process::operator=(child_process&& other) noexcept {
  std::swap(pid_, other.pid_);
  std::swap(first_line_, other.first_line_);
  return *this;
}

child_process::~child_process() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

child_process
fork_broker(const std::vector<std::pair<std::string, int>>& topics,
            std::vector<dataset>& data) {
  for (auto& ds : data)
    ds.bytes = loaded_bytes(ds);
  return spawn([&](int fd) {
    auto broker = transport::embedded_broker::start(1);
    if (!broker)
      _exit(1);
    for (auto& [name, parts] : topics)
      if (!broker->create_topic(name, parts))
        _exit(1);
    for (auto& ds : data) {
      ds.bootstrap = broker->bootstrap();
      if (!load(ds))
        _exit(1);
    }
    say(fd, broker->bootstrap());
    wait_forever();
  });
}

child_process fork_function_server(bool parse) {
  return spawn([parse](int fd) {
    transport::function_server server([parse](const std::string& body) {
      transport::function_reply reply;
      if (!parse)
        return reply;
      thread_local simdjson::dom::parser parser;
      simdjson::dom::element doc;
      if (parser.parse(body).get(doc))
        reply.status = 400;
      return reply;
    });
    if (!server.start())
      _exit(1);
    say(fd, server.url());
    wait_forever();
  });
}

} // namespace kesm::bench
