// kesm's own plain-HTTP client (transport/plain_http.*), through
// http_client, against a scripted socket server: the answers curl would
// have parsed for it (chunked, to the connection's close, after a
// 100 Continue), the kept-alive connection the server closed, the URL
// forms it takes and the ones it leaves to curl.
#include "transport/plain_http.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/function_server.hpp"
#include "transport/http_client.hpp"

using namespace kesm::transport;

namespace {

/// A socket listening on 127.0.0.1 at a port the OS picks (`port`).
int listen_loopback(int backlog, int& port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  listen(fd, backlog);
  return fd;
}

/// A server on 127.0.0.1:0 that reads one request at a time (head and
/// Content-Length body) on each connection, records it, and writes the
/// next scripted answer; an answer flagged `close` closes the connection
/// after it.
class scripted_server {
public:
  struct answer {
    std::string bytes;
    bool close = false;
    /// Answer once the head is in, without reading the body.
    bool early = false;
  };

  explicit scripted_server(std::vector<answer> script)
      : script_(std::move(script)) {
    fd_ = listen_loopback(16, port_);
    thread_ = std::thread([this] { serve(); });
  }

  ~scripted_server() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }

  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const {
    return port_;
  }
  int connections() const {
    return connections_;
  }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> guard{mtx_};
    return requests_;
  }

private:
  void serve() {
    size_t next = 0;
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0)
        continue;
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0)
        continue;
      ++connections_;
      std::string in;
      char buf[65536];
      for (bool open = true; open && !stop_;) {
        auto end = in.find("\r\n\r\n");
        size_t need = 0;
        if (end != std::string::npos) {
          auto at = in.find("Content-Length: ");
          need = end + 4
                 + (at == std::string::npos
                        ? 0
                        : std::strtoul(in.c_str() + at + 16, nullptr, 10));
        }
        bool early = next < script_.size() && script_[next].early;
        if (end != std::string::npos && (early || in.size() >= need)) {
          {
            std::lock_guard<std::mutex> guard{mtx_};
            requests_.push_back(in.substr(0, std::min(need, in.size())));
          }
          in.erase(0, std::min(need, in.size()));
          auto a = next < script_.size() ? script_[next++]
                                         : answer{"HTTP/1.1 500 X\r\n"
                                                  "Content-Length: 0\r\n\r\n",
                                                  true};
          if (send(c, a.bytes.data(), a.bytes.size(), MSG_NOSIGNAL) < 0
              || a.close)
            open = false;
          continue;
        }
        pollfd q{c, POLLIN, 0};
        if (poll(&q, 1, 50) <= 0)
          continue;
        auto n = recv(c, buf, sizeof buf, 0);
        if (n <= 0)
          open = false;
        else
          in.append(buf, static_cast<size_t>(n));
      }
      close(c);
    }
  }

  std::vector<answer> script_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mtx_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

invocation_result post(http_client& client, const std::string& url,
                       const std::string& body, long timeout_ms = 5000,
                       std::vector<std::string> headers = {}) {
  std::promise<invocation_result> p;
  auto f = p.get_future();
  client.post(
      url, std::make_shared<const std::string>(body), timeout_ms,
      [&p](invocation_result r) { p.set_value(std::move(r)); },
      std::move(headers));
  return f.get();
}

std::string ok_answer(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size())
         + "\r\n\r\n" + body;
}

} // namespace

TEST(plain_http, parses_the_urls_it_takes_and_refuses_the_rest) {
  plain_endpoint ep;
  ASSERT_TRUE(parse_plain_url("http://127.0.0.1:8080/fn?x=1", ep));
  EXPECT_EQ(ep.host, "127.0.0.1");
  EXPECT_EQ(ep.port, 8080);
  EXPECT_EQ(ep.host_port, "127.0.0.1:8080");
  EXPECT_EQ(ep.target, "/fn?x=1");
  ASSERT_TRUE(parse_plain_url("HTTP://example.com", ep));
  EXPECT_EQ(ep.port, 80);
  EXPECT_EQ(ep.target, "/");
  ASSERT_TRUE(parse_plain_url("http://10.0.0.1:80/x", ep));
  EXPECT_EQ(ep.host_port, "10.0.0.1") << "Host must be what SigV4 signs";
  EXPECT_EQ(ep.port, 80);
  ASSERT_TRUE(parse_plain_url("http://[::1]:9000?q", ep));
  EXPECT_EQ(ep.host, "::1");
  EXPECT_EQ(ep.port, 9000);
  EXPECT_EQ(ep.target, "/?q");
  for (auto* bad :
       {"https://127.0.0.1/", "http://user:pw@127.0.0.1/",
        "http://127.0.0.1:99999/", "http://127.0.0.1:8a/", "http:///path",
        "http://[::1/", "http://h/#frag", "ftp://h/"})
    EXPECT_FALSE(parse_plain_url(bad, ep)) << bad;
}

TEST(plain_http, sends_head_headers_and_body_and_reads_the_answer) {
  scripted_server srv({{ok_answer("{\"batchItemFailures\":[]}")}});
  http_client client;
  auto r = post(client, srv.url("/invoke"), "{\"records\":{}}", 5000,
                {"X-Extra: 1"});
  EXPECT_EQ(client.plain_calls(), 1u);
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "{\"batchItemFailures\":[]}");
  EXPECT_EQ(r.new_connections, 1);
  auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 1u);
  auto& q = reqs[0];
  EXPECT_EQ(q.rfind("POST /invoke HTTP/1.1\r\n", 0), 0u) << q;
  EXPECT_NE(
      q.find("\r\nHost: 127.0.0.1:" + std::to_string(srv.port()) + "\r\n"),
      std::string::npos);
  EXPECT_NE(q.find("\r\nContent-Type: application/json\r\n"),
            std::string::npos);
  EXPECT_NE(q.find("\r\nX-Extra: 1\r\n"), std::string::npos);
  EXPECT_EQ(q.substr(q.find("\r\n\r\n") + 4), "{\"records\":{}}");
}

TEST(plain_http, a_host_header_given_replaces_its_own) {
  scripted_server srv({{ok_answer("{}")}});
  http_client client;
  auto r = post(client, srv.url(), "{}", 5000, {"host: lambda.example"});
  ASSERT_EQ(r.status, 200) << r.error;
  auto q = srv.requests().at(0);
  EXPECT_EQ(q.find("\r\nHost: 127.0.0.1"), std::string::npos) << q;
  EXPECT_NE(q.find("\r\nhost: lambda.example\r\n"), std::string::npos);
}

TEST(plain_http, reads_chunked_answers_with_trailers_and_lambda_headers) {
  scripted_server srv(
      {{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
        "X-Amz-Function-Error: Unhandled\r\nX-Amz-Executed-Version: 7\r\n\r\n"
        "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n"},
       {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "2\r\n{}\r\n0\r\n\r\n"}});
  http_client client;
  auto a = post(client, srv.url(), "{}");
  EXPECT_EQ(a.status, 200) << a.error;
  EXPECT_EQ(a.body, "hello, world");
  EXPECT_TRUE(a.function_error);
  EXPECT_EQ(a.function_error_type, "Unhandled");
  EXPECT_EQ(a.executed_version, "7");
  auto b = post(client, srv.url(), "{}");
  EXPECT_EQ(b.status, 200) << b.error;
  EXPECT_EQ(b.body, "{}");
  EXPECT_EQ(b.new_connections, 0) << "the connection was not kept";
  EXPECT_EQ(srv.connections(), 1);
}

TEST(plain_http, reads_an_answer_to_the_close_and_skips_100_continue) {
  scripted_server srv({{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 429 Too Many\r\n"
                        "Retry-After: 3\r\n\r\nslow down",
                        true},
                       {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"}});
  http_client client;
  auto a = post(client, srv.url(), "{}");
  EXPECT_EQ(a.status, 429) << a.error;
  EXPECT_EQ(a.body, "slow down");
  EXPECT_EQ(a.retry_after_ms, 3000);
  auto b = post(client, srv.url(), "{}");
  EXPECT_EQ(b.status, 200) << b.error;
  EXPECT_EQ(b.new_connections, 1) << "a closed connection was reused";
  EXPECT_EQ(srv.connections(), 2);
}

TEST(plain_http, retries_once_when_a_kept_alive_connection_was_closed) {
  // The first answer says nothing of closing, then the server closes the
  // connection: the next call finds it closed and goes again on a new one.
  scripted_server srv({{ok_answer("{}"), true}, {ok_answer("[1]")}});
  http_client client;
  ASSERT_EQ(post(client, srv.url(), "a").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto r = post(client, srv.url(), "b");
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "[1]");
  EXPECT_EQ(r.new_connections, 1);
  auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 2u) << "a request was sent twice";
  EXPECT_EQ(reqs[1].substr(reqs[1].find("\r\n\r\n") + 4), "b");
}

TEST(plain_http, resends_once_when_the_server_drops_a_kept_alive_request) {
  // The connection looks open when the call starts; the server reads the
  // request and closes without a byte of answer: sent again, once, on a
  // new connection (what curl does too: at least once, never lost).
  scripted_server srv({{ok_answer("{}")},
                       {"", true},
                       {ok_answer("[2]")},
                       {"", true},
                       {"", true}});
  http_client client;
  ASSERT_EQ(post(client, srv.url(), "a").status, 200);
  auto r = post(client, srv.url(), "b");
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "[2]");
  EXPECT_EQ(r.new_connections, 1);
  EXPECT_EQ(srv.requests().size(), 3u);
  // A fresh connection dropped the same way is not tried again.
  auto again = post(client, srv.url(), "c");
  EXPECT_EQ(again.status, 0);
  EXPECT_NE(again.error.find("Empty reply"), std::string::npos) << again.error;
}

TEST(plain_http, answers_cut_short_or_too_large_are_errors) {
  scripted_server srv(
      {{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", true},
       {"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", true},
       {"not http at all\r\n\r\n", true},
       {ok_answer("fine")}});
  http_client client;
  auto cut = post(client, srv.url(), "{}");
  EXPECT_EQ(cut.status, 0);
  EXPECT_NE(cut.error.find("middle of its answer"), std::string::npos)
      << cut.error;
  auto big = post(client, srv.url(), "{}");
  EXPECT_EQ(big.status, 0);
  EXPECT_TRUE(big.answer_too_large);
  EXPECT_NE(big.error.find("response limit"), std::string::npos) << big.error;
  auto junk = post(client, srv.url(), "{}");
  EXPECT_EQ(junk.status, 0);
  EXPECT_FALSE(junk.error.empty());
  EXPECT_EQ(post(client, srv.url(), "{}").body, "fine");
}

TEST(plain_http, times_out_and_reports_refused_connections) {
  http_client client;
  int silent_port = 0;
  // Accepts through the backlog, never reads.
  int silent = listen_loopback(4, silent_port);
  auto start = std::chrono::steady_clock::now();
  auto t = post(client, "http://127.0.0.1:" + std::to_string(silent_port), "{}",
                300);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(t.status, 0);
  EXPECT_TRUE(t.timed_out) << t.error;
  EXPECT_GE(took, std::chrono::milliseconds(290));
  EXPECT_LT(took, std::chrono::seconds(3));
  close(silent);

  auto refused = post(client, "http://127.0.0.1:9/", "{}");
  EXPECT_EQ(refused.status, 0);
  EXPECT_FALSE(refused.timed_out);
  EXPECT_NE(refused.error.find("127.0.0.1:9"), std::string::npos)
      << refused.error;
  EXPECT_EQ(client.plain_calls(), 2u);
}

TEST(plain_http, a_host_name_goes_to_curl_first_then_to_the_plain_path) {
  function_server fn([](const std::string&) { return function_reply{}; });
  ASSERT_TRUE(fn.start());
  http_client client;
  auto url = "http://localhost:" + std::to_string(fn.port()) + "/";
  auto first = post(client, url, "{}");
  ASSERT_EQ(first.status, 200) << first.error;
  EXPECT_EQ(client.plain_calls(), 0u) << "a name was taken unresolved";
  auto second = post(client, url, "{}");
  EXPECT_EQ(second.status, 200) << second.error;
  EXPECT_EQ(client.plain_calls(), 1u) << "curl's address was not learned";
}

TEST(plain_http, kesm_http_client_curl_or_a_proxy_leaves_every_call_to_curl) {
  function_server fn([](const std::string&) { return function_reply{}; });
  ASSERT_TRUE(fn.start());
  setenv("KESM_HTTP_CLIENT", "curl", 1);
  {
    http_client client;
    EXPECT_EQ(post(client, fn.url(), "{}").status, 200);
    EXPECT_EQ(client.plain_calls(), 0u);
  }
  unsetenv("KESM_HTTP_CLIENT");
  setenv("http_proxy", "http://127.0.0.1:9", 1);
  setenv("no_proxy", "127.0.0.1", 1); // curl goes direct, as asked
  {
    http_client client;
    EXPECT_EQ(post(client, fn.url(), "{}").status, 200);
    EXPECT_EQ(client.plain_calls(), 0u);
  }
  unsetenv("http_proxy");
  unsetenv("no_proxy");
  http_client client;
  EXPECT_EQ(post(client, fn.url(), "{}").status, 200);
  EXPECT_EQ(client.plain_calls(), 1u);
}

TEST(plain_http, an_answer_before_the_whole_request_is_the_answer) {
  // A proxy in front of the function refuses a body too large for it
  // after reading the head: the call gets its 413 (kesm's oversize path
  // for a one-record event), not a transport error.
  scripted_server srv({{"HTTP/1.1 413 Payload Too Large\r\n"
                        "Content-Length: 9\r\nConnection: close\r\n\r\n"
                        "too large",
                        true, true},
                       {ok_answer("{}")}});
  http_client client;
  auto r = post(client, srv.url(), std::string(8 << 20, 'x'));
  EXPECT_EQ(r.status, 413) << r.error;
  EXPECT_EQ(r.body, "too large");
  // The unsent rest is not mistaken for a next request.
  auto next = post(client, srv.url(), "{}");
  EXPECT_EQ(next.status, 200) << next.error;
  EXPECT_EQ(next.new_connections, 1);
}
