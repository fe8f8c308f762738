#include "transport/function_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace kesm::transport;

namespace {

/// A plain TCP client to the server: what it writes goes out as given, so
/// a test controls how requests are cut and joined.
class raw_client {
public:
  explicit raw_client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_
        = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval limit{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  }
  ~raw_client() {
    ::close(fd_);
  }

  bool connected() const {
    return connected_;
  }

  bool send_all(const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
      auto n = ::send(fd_, s.data() + done, s.size() - done, MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  /// Sends no more: the server sees the end of the stream.
  void shutdown_write() {
    ::shutdown(fd_, SHUT_WR);
  }

  /// The next answer's status line and body ("" when the connection ended
  /// first).
  std::pair<std::string, std::string> answer() {
    for (;;) {
      auto end = in_.find("\r\n\r\n");
      if (end != std::string::npos) {
        auto head = in_.substr(0, end);
        size_t length = 0;
        auto at = head.find("Content-Length: ");
        if (at != std::string::npos)
          length = std::stoul(head.substr(at + 16));
        if (in_.size() >= end + 4 + length) {
          auto status = head.substr(0, head.find("\r\n"));
          auto body = in_.substr(end + 4, length);
          in_.erase(0, end + 4 + length);
          return {status, body};
        }
      }
      char buf[65536];
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0)
        return {};
      in_.append(buf, static_cast<size_t>(n));
    }
  }

private:
  int fd_ = -1;
  bool connected_ = false;
  std::string in_;
};

std::string post(const std::string& body) {
  return "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
         "application/json\r\nContent-Length: "
         + std::to_string(body.size()) + "\r\n\r\n" + body;
}

/// A handler that records each body, and the spare capacity it had past
/// its end, and answers with its size.
struct recorder {
  std::mutex mtx;
  std::vector<std::string> bodies;
  std::vector<size_t> spare;

  function_server::handler handler() {
    return [this](const std::string& body) {
      std::lock_guard<std::mutex> guard{mtx};
      bodies.push_back(body);
      spare.push_back(body.capacity() - body.size());
      return function_reply{200, std::to_string(body.size()), false};
    };
  }
};

/// A started server that records what it is sent, and one connection to
/// it.
class function_server_fixture : public ::testing::Test {
protected:
  void SetUp() override {
    fn = std::make_unique<function_server>(seen.handler());
    ASSERT_TRUE(fn->start());
    client = std::make_unique<raw_client>(fn->port());
    ASSERT_TRUE(client->connected());
  }

  recorder seen;
  std::unique_ptr<function_server> fn;
  std::unique_ptr<raw_client> client;
};

} // namespace

TEST_F(function_server_fixture,
       reads_every_body_byte_for_byte_across_its_read_ahead) {
  auto& c = *client;
  // Around httplib's 4 KB asks and the server's 256 KB reads, and past
  // several of them; all on one kept-alive connection.
  std::vector<size_t> sizes{0,      1,      4095,   4096,  4097,
                            262143, 262144, 262145, 700001};
  std::mt19937 rng(7);
  std::vector<std::string> sent;
  for (auto size : sizes) {
    std::string body(size, '\0');
    for (auto& ch : body)
      ch = static_cast<char>('a' + rng() % 26);
    ASSERT_TRUE(c.send_all(post(body)));
    auto [status, answer] = c.answer();
    EXPECT_EQ(status, "HTTP/1.1 200 OK") << size;
    EXPECT_EQ(answer, std::to_string(size));
    sent.push_back(std::move(body));
  }
  std::lock_guard<std::mutex> guard{seen.mtx};
  ASSERT_EQ(seen.bodies.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_TRUE(seen.bodies[i] == sent[i]) << "body " << i << " differs";
    // simdjson's padding: the handler parses the body in place.
    EXPECT_GE(seen.spare[i], 64u) << "body " << i;
  }
}

TEST_F(function_server_fixture, reads_a_chunked_body_whole_and_padded) {
  auto& c = *client;
  // No Content-Length: httplib's own reader takes the body, chunk by
  // chunk, and the request after it on the same connection is intact.
  std::string big(300000, 'q');
  ASSERT_TRUE(c.send_all("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n"
                         "5\r\nhello\r\n493e0\r\n"
                         + big + "\r\n0\r\n\r\n" + post("after")));
  EXPECT_EQ(c.answer().second, std::to_string(5 + big.size()));
  EXPECT_EQ(c.answer().second, "5");
  std::lock_guard<std::mutex> guard{seen.mtx};
  ASSERT_EQ(seen.bodies.size(), 2u);
  EXPECT_TRUE(seen.bodies[0] == "hello" + big);
  EXPECT_EQ(seen.bodies[1], "after");
  EXPECT_GE(seen.spare[0], 64u);
  EXPECT_GE(seen.spare[1], 64u);
}

TEST_F(function_server_fixture,
       answers_requests_that_arrive_in_one_write_in_order) {
  auto& c = *client;
  // Three requests in one write: what the server reads ahead of the first
  // is the start of the next two, and must not be lost.
  std::string big(100000, 'z');
  ASSERT_TRUE(c.send_all(post("abc") + post(big) + post("de")));
  EXPECT_EQ(c.answer().second, "3");
  EXPECT_EQ(c.answer().second, "100000");
  EXPECT_EQ(c.answer().second, "2");
  std::lock_guard<std::mutex> guard{seen.mtx};
  ASSERT_EQ(seen.bodies.size(), 3u);
  EXPECT_EQ(seen.bodies[0], "abc");
  EXPECT_EQ(seen.bodies[1], big);
  EXPECT_EQ(seen.bodies[2], "de");
}

TEST_F(function_server_fixture, refuses_a_body_past_64_mb) {
  auto& c = *client;
  ASSERT_TRUE(c.send_all("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Content-Length: 70000000\r\n\r\n{"));
  EXPECT_EQ(c.answer().first, "HTTP/1.1 413 Payload Too Large");
  std::lock_guard<std::mutex> guard{seen.mtx};
  EXPECT_TRUE(seen.bodies.empty());
}

TEST_F(function_server_fixture,
       stops_at_once_with_a_kept_alive_connection_open) {
  auto& c = *client;
  ASSERT_TRUE(c.send_all(post("{}")));
  EXPECT_EQ(c.answer().second, "2");
  // The connection stays open and idle; the server must not wait out its
  // 60-second keep-alive to stop.
  auto t0 = std::chrono::steady_clock::now();
  fn.reset();
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_EQ(c.answer().first, "") << "the connection should be closed";
}

TEST_F(function_server_fixture, never_hands_the_handler_a_cut_body) {
  auto& c = *client;
  // 10 of the 1,000 bytes announced, then the client stops sending.
  ASSERT_TRUE(c.send_all("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Content-Length: 1000\r\n\r\n{\"records\""));
  c.shutdown_write();
  EXPECT_EQ(c.answer().first, "HTTP/1.1 400 Bad Request");
  std::lock_guard<std::mutex> guard{seen.mtx};
  EXPECT_TRUE(seen.bodies.empty()) << "the handler saw part of an event";
}
