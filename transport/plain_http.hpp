#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sys/socket.h>

#include "transport/function_target.hpp"

namespace kesm::transport {

/// Where a plain-HTTP call goes, from an `http://` URL.
struct plain_endpoint {
  std::string host_port; // as in the URL: the Host header
  std::string host;      // without IPv6 brackets
  int port = 80;
  std::string target; // path and query ("/" at least)
};

/// Parses `http://host[:port][/path][?query]`; false for anything else
/// (another scheme, user info, a fragment, a bad port).
bool parse_plain_url(const std::string& url, plain_endpoint& out);

/// Applies one answer header line (`Name: value\r\n`) to `res`: Lambda's
/// and AWS's headers kesm reads, whichever client read the answer.
void read_answer_header(const char* line, size_t n, invocation_result& res);

/// kesm's own client for plain `http://` calls, driven by `http_client`'s
/// I/O thread beside curl (docs/benchmarks.md, "libcurl's cost per call").
/// It writes the request head and the event in one `sendmsg()` straight
/// from the event's buffer, where curl copies the event into its upload
/// buffer and sends the head apart from a body over 64 KB. Kept-alive
/// connections per address; answers by Content-Length, chunked or
/// connection close; the call's timeout; one retry on a kept-alive
/// connection the server closed before answering (as curl does).
///
/// It takes a call only when the host is an IP address, or a name curl
/// resolved for an earlier call (`learn`, kept 60 s as curl's DNS cache
/// keeps it), and no proxy is configured (`http_proxy`, `all_proxy`;
/// curl honours them) and `KESM_HTTP_CLIENT` is not `curl`. Everything
/// else stays with curl. Not thread-safe: one thread drives it.
class plain_http {
public:
  plain_http();
  ~plain_http();

  plain_http(const plain_http&) = delete;
  plain_http& operator=(const plain_http&) = delete;

  /// Starts the call if this path takes it; false leaves `done` untouched
  /// for curl.
  bool start(const std::string& url, const std::vector<std::string>& headers,
             std::shared_ptr<const std::string> body, long timeout_ms,
             invocation_callback& done);

  /// The sockets whose readiness should end the I/O thread's wait.
  struct wait {
    int fd;
    short events;
  };
  std::vector<wait> waits() const;

  /// Drives every call whose socket is ready (it polls them itself, with
  /// no wait); completes finished, failed and timed-out calls (their
  /// callbacks run here).
  void service();

  /// Milliseconds until the nearest call's deadline, at most `cap`.
  int timeout_ms(int cap) const;

  /// Ends every call in flight with `why` (shutdown).
  void fail_all(const std::string& why);

  /// Records the address curl connected to for `url`'s host.
  void learn(const std::string& url, const char* ip, long port);

  bool enabled() const noexcept {
    return enabled_;
  }

  struct call;

private:
  bool resolve(const plain_endpoint& ep, sockaddr_storage& addr,
               socklen_t& len);
  static short want(const call& c);
  bool open(call& c);
  void drive(call& c, short revents);
  void receive(call& c);
  void retry_or_fail(call& c, const std::string& why);
  void finish(call& c);
  void fail(call& c, const std::string& why, bool timed_out = false);
  void fail_too_large(call& c);
  void park(call& c);

  struct learned {
    sockaddr_storage addr;
    socklen_t len;
    std::chrono::steady_clock::time_point at;
  };

  bool enabled_ = true;
  std::vector<std::unique_ptr<call>> calls_;
  std::map<std::string, learned> names_;
  std::map<std::string, std::vector<int>> idle_; // address -> sockets
  size_t idle_count_ = 0;
};

} // namespace kesm::transport
