#include "transport/function_server.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/socket_stream.hpp"
#include "transport/sockets.hpp"

namespace kesm::transport {

namespace {

/// Seconds an idle kept-alive connection stays open, and a started
/// request may take to arrive whole.
constexpr int idle_seconds = 60;

/// Bytes a connection reads at once.
constexpr size_t read_ahead_bytes = 256 * 1024;

/// A request body larger than this is answered 413.
constexpr size_t max_body_bytes = 64 * 1024 * 1024;

/// A body buffer this large is released after its request, not kept for
/// the connection's thread.
constexpr size_t keep_body_bytes = 8 * 1024 * 1024;

/// Spare bytes a body always has after its end (`function_server.hpp`):
/// simdjson's padding, so its parser reads the body where it is instead
/// of copying it into a padded buffer of its own first.
constexpr size_t body_padding = 64;

/// A connection read in large pieces. cpp-httplib asks its stream for at
/// most 4 KB at a time, and its own socket stream makes each ask a poll()
/// and a recv(): about 100 of each for a 400 KB event, 35 % of the
/// function's CPU in the benchmark (docs/benchmarks.md, "The function
/// server's reads"). Here one recv() fills up to 256 KB and the asks are
/// served from it. The stream lives as long as the connection, so what a
/// read brought of the next request is kept for it.
class read_ahead_stream : public socket_stream {
public:
  read_ahead_stream(int sock, const std::atomic<bool>& stopping)
      : socket_stream(sock), stopping_(stopping), buf_(read_ahead_bytes) {
    // nop
  }

  /// Whether a byte is buffered or arrives within `timeout_ms`; false at
  /// once (within 100 ms) when the server stops.
  bool wait_readable(int timeout_ms) const {
    if (begin_ < end_)
      return true;
    for (int left = timeout_ms; left > 0 && !stopping_; left -= 100)
      if (wait_for(sock_, POLLIN, std::min(left, 100)))
        return true;
    return false;
  }

  bool is_readable() const override {
    return wait_readable(idle_seconds * 1000);
  }
  bool is_writable() const override {
    return wait_for(sock_, POLLOUT, idle_seconds * 1000);
  }

  /// Reads exactly `n` bytes into `dst`: what is buffered first, the rest
  /// straight from the socket, with no copy between (a request body).
  /// Never reads past them; false when the connection ends, fails or
  /// stays silent for the idle time first.
  bool read_exact(char* dst, size_t n) {
    size_t done = std::min(n, end_ - begin_);
    std::memcpy(dst, buf_.data() + begin_, done);
    begin_ += done;
    while (done < n) {
      auto got = ::recv(sock_, dst + done, n - done, MSG_DONTWAIT);
      if (got > 0) {
        done += static_cast<size_t>(got);
        continue;
      }
      if (got == 0)
        return false;
      if (errno == EINTR)
        continue;
      if ((errno != EAGAIN && errno != EWOULDBLOCK) || !is_readable())
        return false;
    }
    return true;
  }

  ssize_t read(char* ptr, size_t size) override {
    if (begin_ == end_) {
      auto n = fill();
      if (n <= 0)
        return n;
    }
    auto n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buf_.data() + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

private:
  /// One recv() into the empty buffer; waits (up to the idle time) only
  /// when nothing has arrived yet.
  ssize_t fill() {
    for (;;) {
      auto n = ::recv(sock_, buf_.data(), buf_.size(), MSG_DONTWAIT);
      if (n >= 0) {
        begin_ = 0;
        end_ = static_cast<size_t>(n);
        return n;
      }
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return -1;
      if (!is_readable())
        return -1;
    }
  }

  const std::atomic<bool>& stopping_;
  std::vector<char> buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

/// Set by a handler that answered without reading the request's body:
/// the connection cannot carry another request.
thread_local bool close_after_reply = false;

/// The connection the calling pool thread serves, for a handler that
/// reads its body from it directly.
thread_local read_ahead_stream* current_stream = nullptr;

/// cpp-httplib's server with a connection loop over `read_ahead_stream`.
class read_ahead_server : public httplib::Server {
public:
  /// Stops serving. httplib's own `stop` leaves `is_running` true until
  /// its pool has joined every connection thread, so the connections
  /// watch this flag instead and end within 100 ms, idle or not.
  void halt() {
    stopping_ = true;
    stop();
  }

private:
  bool process_and_close_socket(int sock) override {
    // Without it, the answer's headers and body meet Nagle and delayed
    // ACKs: 40 ms per call.
    int one = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    timeval limit{idle_seconds, 0};
    ::setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
    read_ahead_stream strm(sock, stopping_);
    current_stream = &strm;
    while (!stopping_ && strm.wait_readable(idle_seconds * 1000)) {
      bool closed = false;
      close_after_reply = false;
      if (!process_request(strm, stopping_, closed,
                           [](httplib::Request&) {
                             // nop
                           })
          || closed || close_after_reply)
        break;
    }
    current_stream = nullptr;
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return true;
  }

  std::atomic<bool> stopping_{false};
};

} // namespace

struct function_server::impl {
  read_ahead_server server;
  handler fn;
};

function_server::function_server(handler h) : impl_(std::make_unique<impl>()) {
  impl_->fn = std::move(h);
  // Each kept-alive connection holds a pool thread: room for many pollers
  // (5 connections each) rather than httplib's default of 8 threads.
  impl_->server.new_task_queue = [] { return new httplib::ThreadPool(64); };
  // What the answers' Keep-Alive header says; the connection loop above
  // holds to it.
  impl_->server.set_keep_alive_max_count(1000000);
  impl_->server.set_keep_alive_timeout(idle_seconds);
  // Bounds a chunked body too; one with Content-Length is refused before
  // it is read (below).
  impl_->server.set_payload_max_length(max_body_bytes);
  // The body is read into a buffer the pool thread keeps from call to
  // call, sized once from Content-Length, with `body_padding` spare bytes
  // after it: no growing string, no fresh pages for every event, and no
  // copy for a parser that needs padding. A body with Content-Length
  // goes from the socket (or what the connection read ahead) straight
  // into it; httplib's reader, which hands it over 4 KB at a time through
  // a buffer of its own, reads only chunked bodies (docs/benchmarks.md,
  // "The function server's body, read in place").
  impl_->server.Post(".*", [this](const httplib::Request& req,
                                  httplib::Response& res,
                                  const httplib::ContentReader& read) {
    auto length = std::strtoull(req.get_header_value("Content-Length").c_str(),
                                nullptr, 10);
    if (length > max_body_bytes) {
      // Answered before the body, which is then not read: the
      // connection ends with the answer.
      res.status = 413;
      res.set_header("Connection", "close");
      close_after_reply = true;
      return;
    }
    thread_local std::string body;
    bool whole;
    if (!req.has_header("Transfer-Encoding") && current_stream != nullptr) {
      // Not cleared first: resize() then zeroes only what the body grew
      // by since the last call, not all of it.
      body.reserve(length + body_padding);
      body.resize(length);
      whole = current_stream->read_exact(body.data(), length);
    } else {
      // Chunked: no length to size the buffer from; padded once read.
      body.clear();
      whole = read([](const char* data, size_t n) {
        body.append(data, n);
        return true;
      });
      if (body.capacity() < body.size() + body_padding)
        body.reserve(body.size() + body_padding);
    }
    if (!whole) {
      // The client hung up mid-body, or a chunked body passed the limit
      // (httplib set 413): the handler never sees part of an event.
      if (res.status < 400)
        res.status = 400;
      close_after_reply = true;
      if (body.capacity() > keep_body_bytes)
        std::string().swap(body);
      return;
    }
    auto reply = impl_->fn(body);
    if (body.capacity() > keep_body_bytes)
      std::string().swap(body);
    res.status = reply.status;
    if (reply.function_error)
      res.set_header("X-Amz-Function-Error", "Unhandled");
    res.set_content(reply.body, "application/json");
  });
}

function_server::~function_server() {
  impl_->server.halt();
  if (thread_.joinable())
    thread_.join();
}

bool function_server::start() {
  port_ = impl_->server.bind_to_any_port("127.0.0.1");
  if (port_ <= 0)
    return false;
  thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
  while (!impl_->server.is_running())
    std::this_thread::yield();
  return true;
}

std::string function_server::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/";
}

} // namespace kesm::transport
