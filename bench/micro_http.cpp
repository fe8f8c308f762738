// Google Benchmark micro-benchmarks of one HTTP call's cost on the
// caller's side (issue 14: "measure libcurl's per-call cost and whether a
// leaner client path is worth it"). The function is the bench's control
// function (reads the body, answers `{}`) in a forked process, so the CPU
// column (the whole process's, `MeasureProcessCPUTime`) is the client's
// alone: the calling thread, and for `http_client` its I/O thread.
//
// - http_post_http_client: kesm's path, transport::http_client, one call
//   at a time: its own plain-HTTP client on its I/O thread (second
//   argument 0), or curl's multi interface there (1: KESM_HTTP_CLIENT=curl,
//   the path of every call before the tenth session);
// - http_post_curl_easy: curl_easy_perform with the same options in the
//   calling thread: the same library without the hand-off;
// - http_post_writev: the floor, a kept-alive socket, headers and body
//   in one writev() straight from the body's buffer, the answer read by
//   Content-Length; the second argument 1 sends the headers first in a
//   write() of their own, then the body, as curl does with a body over
//   64 KB (it sends a smaller one with the headers).
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench/children.hpp"
#include "transport/http_client.hpp"

namespace {

/// The control function, forked once (before the first benchmark that
/// needs it; Google Benchmark runs single-threaded benchmarks on the main
/// thread, so the process has one thread when it forks).
const kesm::bench::child_process& function() {
  static kesm::bench::child_process fn
      = kesm::bench::fork_function_server(false);
  return fn;
}

/// The function's URL, or null after marking `state` skipped.
const std::string* function_url(benchmark::State& state) {
  auto& fn = function();
  if (fn.ok())
    return &fn.first_line();
  state.SkipWithError("the function server did not start");
  return nullptr;
}

int port_of(const std::string& url) {
  auto colon = url.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(url.c_str() + colon + 1);
}

std::shared_ptr<const std::string> body_of(size_t bytes) {
  auto b = std::make_shared<std::string>("{\"records\":\"");
  b->append(bytes > 14 ? bytes - 14 : 0, 'a');
  b->append("\"}");
  return b;
}

void http_post_http_client(benchmark::State& state) {
  auto* url = function_url(state);
  if (url == nullptr)
    return;
  if (state.range(1) == 1)
    setenv("KESM_HTTP_CLIENT", "curl", 1); // read when the client starts
  kesm::transport::http_client client;
  unsetenv("KESM_HTTP_CLIENT");
  auto body = body_of(static_cast<size_t>(state.range(0)));
  std::mutex mtx;
  std::condition_variable cv;
  for (auto _ : state) {
    bool done = false;
    int status = 0;
    client.post(*url, body, 10000, [&](kesm::transport::invocation_result r) {
      std::lock_guard<std::mutex> guard{mtx};
      status = r.status;
      done = true;
      cv.notify_one();
    });
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait(lock, [&] { return done; });
    if (status != 200) {
      state.SkipWithError("the call failed");
      break;
    }
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(http_post_http_client)
    ->Args({4000, 0})
    ->Args({400000, 0})
    ->Args({4000, 1})
    ->Args({400000, 1})
    ->MeasureProcessCPUTime()
    ->UseRealTime();

size_t ignore_body(char*, size_t size, size_t n, void*) {
  return size * n;
}

void http_post_curl_easy(benchmark::State& state) {
  auto* url = function_url(state);
  if (url == nullptr)
    return;
  auto body = body_of(static_cast<size_t>(state.range(0)));
  CURL* easy = curl_easy_init();
  curl_slist* headers
      = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  for (auto _ : state) {
    // As http_client does for every call on a reused handle.
    curl_easy_reset(easy);
    curl_easy_setopt(easy, CURLOPT_URL, url->c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body->size()));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, ignore_body);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
    long status = 0;
    if (curl_easy_perform(easy) != CURLE_OK
        || curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK
        || status != 200) {
      state.SkipWithError("the call failed");
      break;
    }
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(http_post_curl_easy)
    ->Arg(4000)
    ->Arg(400000)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

/// Reads one answer (status line, headers, Content-Length body) from
/// `fd`; the status, or 0 on a broken answer.
int read_answer(int fd, std::string& buf) {
  buf.clear();
  size_t head_end = std::string::npos;
  size_t need = 0;
  char tmp[4096];
  for (;;) {
    if (head_end == std::string::npos) {
      head_end = buf.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        head_end += 4;
        auto at = buf.find("Content-Length:");
        if (at == std::string::npos)
          at = buf.find("content-length:");
        need = head_end
               + (at == std::string::npos
                      ? 0
                      : std::strtoul(buf.c_str() + at + 15, nullptr, 10));
      }
    }
    if (head_end != std::string::npos && buf.size() >= need)
      return buf.size() > 12 ? std::atoi(buf.c_str() + 9) : 0;
    auto n = read(fd, tmp, sizeof tmp);
    if (n <= 0)
      return 0;
    buf.append(tmp, static_cast<size_t>(n));
  }
}

void http_post_writev(benchmark::State& state) {
  auto* url = function_url(state);
  if (url == nullptr)
    return;
  auto body = body_of(static_cast<size_t>(state.range(0)));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_of(*url)));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    state.SkipWithError("cannot connect to the function server");
    return;
  }
  std::string answer;
  for (auto _ : state) {
    std::string head = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Content-Type: application/json\r\nContent-Length: "
                       + std::to_string(body->size()) + "\r\n\r\n";
    iovec iov[2] = {{head.data(), head.size()},
                    {const_cast<char*>(body->data()), body->size()}};
    size_t left = head.size() + body->size();
    int idx = 0;
    bool ok = true;
    if (state.range(1) == 1) { // the headers first, alone, as curl does
      if (write(fd, head.data(), head.size())
          != static_cast<ssize_t>(head.size()))
        ok = false;
      left -= head.size();
      idx = 1;
    }
    while (ok && left > 0) {
      auto n = writev(fd, iov + idx, 2 - idx);
      if (n <= 0) {
        ok = false;
        break;
      }
      left -= static_cast<size_t>(n);
      for (auto k = static_cast<size_t>(n); k > 0 && idx < 2;) {
        auto step = std::min(k, iov[idx].iov_len);
        iov[idx].iov_base = static_cast<char*>(iov[idx].iov_base) + step;
        iov[idx].iov_len -= step;
        k -= step;
        if (iov[idx].iov_len == 0)
          ++idx;
      }
    }
    if (!ok || read_answer(fd, answer) != 200) {
      state.SkipWithError("the call failed");
      break;
    }
  }
  close(fd);
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(http_post_writev)
    ->Args({4000, 0})
    ->Args({400000, 0})
    ->Args({400000, 1})
    ->MeasureProcessCPUTime()
    ->UseRealTime();

} // namespace
