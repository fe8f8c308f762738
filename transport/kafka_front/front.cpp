#include "transport/kafka_front/front.hpp"

#include <cstring>
#include <ctime>
#include <optional>
#include <unordered_map>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codecs/base64.hpp"
#include "transport/kafka_front/scram.hpp"
#include "transport/kafka_front/wire.hpp"

namespace kesm::transport::kafka_front {

namespace {

constexpr size_t max_frame = 100 * 1024 * 1024;
const std::string front_host = "127.0.0.1";

codecs::error failed(std::string msg) {
  return codecs::error{codecs::errc::invalid_parameter, std::move(msg)};
}

std::string openssl_error() {
  char buf[256] = "unknown error";
  if (auto e = ERR_get_error(); e != 0)
    ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

/// A listening socket on 127.0.0.1 with an OS-chosen port; -1 on failure.
int listen_any(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0
      || ::listen(fd, 64) != 0
      || getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(addr.sin_port);
  return fd;
}

int connect_local(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool send_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    auto k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0)
      return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

/// Takes whole Kafka frames (without their size) off the front of `buf`.
std::optional<std::string> next_frame(std::string& buf, bool& bad) {
  if (buf.size() < 4)
    return std::nullopt;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n = (n << 8) | static_cast<unsigned char>(buf[static_cast<size_t>(i)]);
  if (n > max_frame) {
    bad = true;
    return std::nullopt;
  }
  if (buf.size() < 4 + size_t{n})
    return std::nullopt;
  std::string frame = buf.substr(4, n);
  buf.erase(0, 4 + size_t{n});
  return frame;
}

int scram_bits(const std::string& mechanism) {
  return mechanism == "SCRAM-SHA-512" ? 512 : 256;
}

} // namespace

/// One client connection: TLS, SASL, then relay. Runs on its own thread.
class secure_front::connection {
public:
  connection(secure_front& front, int fd) : front_(front), fd_(fd) {
    // nop
  }

  ~connection() {
    if (ssl_ != nullptr)
      SSL_free(ssl_);
    if (up_ >= 0)
      ::close(up_);
    ::close(fd_);
  }

  void run(int upstream_port) {
    if (!handshake())
      return;
    authenticated_ = front_.opts_.mechanisms.empty();
    up_ = connect_local(upstream_port);
    if (up_ < 0)
      return;
    while (!front_.stop_.load()) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {up_, POLLIN, 0}};
      bool pending = ssl_ != nullptr && SSL_pending(ssl_) > 0;
      if (!pending && ::poll(fds, 2, 250) <= 0)
        continue;
      if (pending || (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
        if (!from_client())
          return;
      if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
        if (!from_upstream())
          return;
    }
  }

private:
  bool handshake() {
    if (front_.ctx_ == nullptr)
      return true;
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ssl_ = SSL_new(front_.ctx_);
    SSL_set_fd(ssl_, fd_);
    if (SSL_accept(ssl_) <= 0) {
      ++front_.refused_;
      front_.refuse("TLS handshake failed: " + openssl_error());
      return false;
    }
    tv = timeval{0, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (!front_.opts_.client_ca.empty())
      ++front_.accepted_; // the client certificate was verified
    return true;
  }

  bool to_client(const std::string& bytes) {
    if (ssl_ == nullptr)
      return send_all(fd_, bytes.data(), bytes.size());
    size_t at = 0;
    while (at < bytes.size()) {
      int n = SSL_write(ssl_, bytes.data() + at,
                        static_cast<int>(bytes.size() - at));
      if (n <= 0)
        return false;
      at += static_cast<size_t>(n);
    }
    return true;
  }

  bool from_client() {
    char buf[65536];
    int n = ssl_ != nullptr
                ? SSL_read(ssl_, buf, sizeof(buf))
                : static_cast<int>(::recv(fd_, buf, sizeof(buf), 0));
    if (n <= 0) {
      if (ssl_ != nullptr)
        if (auto e = ERR_peek_error(); e != 0)
          front_.refuse("TLS connection failed: " + openssl_error());
      return false;
    }
    cbuf_.append(buf, static_cast<size_t>(n));
    bool bad = false;
    while (auto frame = next_frame(cbuf_, bad))
      if (!request(*frame))
        return false;
    return !bad;
  }

  bool from_upstream() {
    char buf[65536];
    auto n = ::recv(up_, buf, sizeof(buf), 0);
    if (n <= 0)
      return false;
    ubuf_.append(buf, static_cast<size_t>(n));
    bool bad = false;
    while (auto frame = next_frame(ubuf_, bad)) {
      if (frame->size() < 4)
        return false;
      int32_t corr = 0;
      for (int i = 0; i < 4; ++i)
        corr = static_cast<int32_t>(
            (static_cast<uint32_t>(corr) << 8)
            | static_cast<unsigned char>((*frame)[static_cast<size_t>(i)]));
      std::string body = frame->substr(4);
      if (auto it = pending_.find(corr); it != pending_.end()) {
        body = rewrite_response(
            static_cast<api>(it->second.first), it->second.second, body,
            front_host, front_.port_map_, !front_.opts_.mechanisms.empty());
        pending_.erase(it);
      }
      if (!to_client(response_frame(corr, body)))
        return false;
    }
    return !bad;
  }

  bool request(const std::string& frame) {
    auto h = read_request_header(frame);
    if (!h)
      return false;
    auto key = static_cast<api>(h->key);
    if (!authenticated_) {
      if (key == api::sasl_handshake)
        return sasl_handshake(*h, frame);
      if (key == api::sasl_authenticate)
        return sasl_authenticate(*h, frame);
      if (key != api::api_versions) {
        front_.refuse("request " + std::to_string(h->key)
                      + " before authentication; connection closed");
        return false;
      }
    }
    if (key == api::metadata || key == api::find_coordinator
        || key == api::api_versions)
      pending_[h->correlation_id] = {h->key, h->version};
    std::string out;
    out.reserve(frame.size() + 4);
    auto n = static_cast<uint32_t>(frame.size());
    for (int i = 3; i >= 0; --i)
      out += static_cast<char>((n >> (i * 8)) & 0xff);
    out += frame;
    return send_all(up_, out.data(), out.size());
  }

  bool sasl_handshake(const request_header& h, const std::string& frame) {
    auto mech = read_handshake(std::string_view(frame).substr(h.body_at));
    auto& offered = front_.opts_.mechanisms;
    bool ok
        = mech
          && std::find(offered.begin(), offered.end(), *mech) != offered.end();
    if (ok)
      mechanism_ = *mech;
    else
      front_.refuse("SASL mechanism " + mech.value_or("?") + " is not enabled");
    return to_client(response_frame(
               h.correlation_id,
               handshake_response(ok ? kafka_error::none
                                     : kafka_error::unsupported_sasl_mechanism,
                                  offered)))
           && ok;
  }

  bool sasl_authenticate(const request_header& h, const std::string& frame) {
    auto bytes = read_authenticate(std::string_view(frame).substr(h.body_at));
    if (!bytes || mechanism_.empty())
      return false;
    std::optional<std::string> answer;
    if (mechanism_ == "OAUTHBEARER") {
      // RFC 7628: gs2-header \x01 auth=Bearer <token> \x01 ... \x01\x01
      auto at = bytes->find("\x01" "auth=Bearer ");
      std::string why = "no bearer token";
      if (at != std::string::npos) {
        at += 13;
        auto token = bytes->substr(at, bytes->find('\x01', at) - at);
        if (front_.opts_.check_bearer
            && front_.opts_.check_bearer(token, why)) {
          answer = "";
          authenticated_ = true;
        }
      }
      if (!answer)
        front_.refuse("OAUTHBEARER token refused: " + why);
    } else if (mechanism_ == "PLAIN") {
      // authzid \0 user \0 password
      auto a = bytes->find('\0');
      auto b = a == std::string::npos ? a : bytes->find('\0', a + 1);
      if (b != std::string::npos
          && front_.check_password(bytes->substr(a + 1, b - a - 1),
                                   bytes->substr(b + 1))) {
        answer = "";
        authenticated_ = true;
      }
    } else if (!scram_) {
      scram_ = std::make_unique<scram_server>(
          scram_bits(mechanism_),
          [this](const std::string& user) { return front_.password_of(user); });
      if (auto first = scram_->first(*bytes))
        answer = *first;
    } else if (auto last = scram_->final(*bytes)) {
      answer = *last;
      authenticated_ = true;
    }
    if (!answer) {
      ++front_.refused_;
      front_.refuse("SASL " + mechanism_ + " authentication failed");
      to_client(response_frame(
          h.correlation_id,
          authenticate_response(
              h.version, kafka_error::sasl_authentication_failed,
              "Authentication failed during authentication due to invalid"
              " credentials with SASL mechanism "
                  + mechanism_,
              "")));
      return false;
    }
    if (authenticated_)
      ++front_.accepted_;
    return to_client(response_frame(
        h.correlation_id,
        authenticate_response(h.version, kafka_error::none, "", *answer)));
  }

  secure_front& front_;
  int fd_;
  int up_ = -1;
  SSL* ssl_ = nullptr;
  bool authenticated_ = false;
  std::string mechanism_;
  std::unique_ptr<scram_server> scram_;
  std::string cbuf_;
  std::string ubuf_;
  /// correlation id -> (api key, version) of requests whose answers are
  /// rewritten.
  std::unordered_map<int32_t, std::pair<int16_t, int16_t>> pending_;
};

secure_front::secure_front(front_options opts) : opts_(std::move(opts)) {
  // nop
}

codecs::expected<std::unique_ptr<secure_front>>
secure_front::start(const std::string& upstream, front_options opts) {
  for (auto& m : opts.mechanisms)
    if (m != "PLAIN" && m != "SCRAM-SHA-256" && m != "SCRAM-SHA-512"
        && m != "OAUTHBEARER")
      return failed("unknown SASL mechanism " + m
                    + "; use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or"
                      " OAUTHBEARER");
  std::unique_ptr<secure_front> f{new secure_front(std::move(opts))};
  if (!f->opts_.server.certificate.empty()) {
    f->ctx_ = SSL_CTX_new(TLS_server_method());
    auto load = [&](const std::string& pem, bool key) {
      auto* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
      bool ok = false;
      if (key) {
        auto* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
        ok = k != nullptr && SSL_CTX_use_PrivateKey(f->ctx_, k) == 1;
        EVP_PKEY_free(k);
      } else {
        auto* c = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
        // OpenSSL 3.0 caches a certificate's extensions on first use and
        // concurrent first handshakes race on that cache (ThreadSanitizer
        // saw it; openssl/openssl#25202): fill it now, on one thread.
        if (c != nullptr)
          X509_check_purpose(c, -1, 0);
        ok = c != nullptr && SSL_CTX_use_certificate(f->ctx_, c) == 1;
        X509_free(c);
      }
      BIO_free(bio);
      return ok;
    };
    if (!load(f->opts_.server.certificate, false)
        || !load(f->opts_.server.private_key, true))
      return failed("the front's server certificate or key: "
                    + openssl_error());
    if (!f->opts_.client_ca.empty()) {
      auto& pem = f->opts_.client_ca;
      auto* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
      auto* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
      BIO_free(bio);
      if (ca == nullptr)
        return failed("the front's client CA: " + openssl_error());
      X509_check_purpose(ca, -1, 0); // its extension cache, as above
      X509_STORE_add_cert(SSL_CTX_get_cert_store(f->ctx_), ca);
      X509_free(ca);
      SSL_CTX_set_verify(
          f->ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
  }
  size_t at = 0;
  while (at <= upstream.size()) {
    auto end = upstream.find(',', at);
    if (end == std::string::npos)
      end = upstream.size();
    auto item = upstream.substr(at, end - at);
    auto colon = item.rfind(':');
    if (colon == std::string::npos)
      return failed("bad upstream broker " + item + "; use host:port");
    int up = std::atoi(item.c_str() + colon + 1);
    int port = 0;
    int fd = listen_any(port);
    if (fd < 0)
      return failed("the front cannot listen on 127.0.0.1");
    f->listeners_.push_back(fd);
    f->listen_ports_.push_back(port);
    f->upstream_ports_.push_back(up);
    f->port_map_[up] = port;
    at = end + 1;
  }
  f->acceptor_ = std::thread([p = f.get()] { p->accept_loop(); });
  return f;
}

secure_front::~secure_front() {
  stop_ = true;
  if (acceptor_.joinable())
    acceptor_.join();
  for (int fd : listeners_)
    ::close(fd);
  std::lock_guard<std::mutex> guard{workers_mtx_};
  for (auto& w : workers_)
    w.thread.join();
  if (ctx_ != nullptr)
    SSL_CTX_free(ctx_);
}

std::string secure_front::bootstrap() const {
  std::string out;
  for (int port : listen_ports_)
    out += (out.empty() ? "" : ",") + front_host + ":" + std::to_string(port);
  return out;
}

void secure_front::set_password(const std::string& user,
                                const std::string& password) {
  std::lock_guard<std::mutex> guard{users_mtx_};
  opts_.users[user] = password;
}

std::optional<std::string> secure_front::password_of(const std::string& user) {
  std::lock_guard<std::mutex> guard{users_mtx_};
  auto it = opts_.users.find(user);
  if (it == opts_.users.end())
    return std::nullopt;
  return it->second;
}

bool secure_front::check_password(const std::string& user,
                                  const std::string& password) {
  auto expected = password_of(user);
  return expected && expected->size() == password.size()
         && CRYPTO_memcmp(expected->data(), password.data(), password.size())
                == 0;
}

void secure_front::refuse(const std::string& why) {
  if (opts_.on_refused)
    opts_.on_refused(why);
}

void secure_front::accept_loop() {
  std::vector<pollfd> fds;
  for (int fd : listeners_)
    fds.push_back(pollfd{fd, POLLIN, 0});
  while (!stop_.load()) {
    if (::poll(fds.data(), fds.size(), 250) <= 0)
      continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN))
        continue;
      int fd = ::accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0)
        continue;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      std::lock_guard<std::mutex> guard{workers_mtx_};
      // Reap finished connections so a long-running front stays small.
      for (auto it = workers_.begin(); it != workers_.end();) {
        if (it->done.load()) {
          it->thread.join();
          it = workers_.erase(it);
        } else
          ++it;
      }
      auto& w = workers_.emplace_back();
      int up = upstream_ports_[i];
      w.thread = std::thread([this, fd, up, &w] {
        serve(fd, up);
        w.done = true;
      });
    }
  }
}

void secure_front::serve(int fd, int upstream_port) {
  // OpenSSL writes TLS records (a handshake alert to a client that has
  // already hung up, say) with plain write(): on a closed socket that
  // raises SIGPIPE, which ends the whole process unless it is handled.
  // Blocked on this connection's thread, the write fails with EPIPE and
  // the connection ends. (A test process died of it.)
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  connection c{*this, fd};
  c.run(upstream_port);
}

bool msk_token_shape(const std::string& token, std::string& why) {
  std::string url;
  if (!codecs::base64url_decode(token, url)) {
    why = "not base64url";
    return false;
  }
  auto param = [&](const std::string& name) -> std::string {
    auto at = url.find((url.find("?" + name + "=") != std::string::npos
                          ? "?"
                          : "&")
                       + name + "=");
    if (at == std::string::npos)
      return {};
    at += name.size() + 2;
    return url.substr(at, url.find('&', at) - at);
  };
  if (url.rfind("https://kafka.", 0) != 0
      || param("Action") != "kafka-cluster%3AConnect"
      || param("X-Amz-Signature").size() != 64) {
    why = "not a presigned kafka-cluster:Connect URL";
    return false;
  }
  auto date = param("X-Amz-Date");
  std::tm tm{};
  if (date.size() != 16
      || strptime(date.c_str(), "%Y%m%dT%H%M%SZ", &tm) == nullptr) {
    why = "no X-Amz-Date";
    return false;
  }
  auto expires = timegm(&tm) + std::atol(param("X-Amz-Expires").c_str());
  if (expires < std::time(nullptr)) {
    why = "expired";
    return false;
  }
  return true;
}

} // namespace kesm::transport::kafka_front
