#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "codecs/expected.hpp"
#include "transport/kafka_front/pki.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace kesm::transport::kafka_front {

/// What a front asks of its clients.
struct front_options {
  /// Server certificate and key (PEM); an empty certificate: no TLS
  /// (SASL_PLAINTEXT).
  pem_pair server;
  /// Non-empty: clients must present a certificate signed by this CA (PEM).
  std::string client_ca;
  /// SASL mechanisms offered (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); none:
  /// no SASL.
  std::vector<std::string> mechanisms;
  /// User -> password.
  std::map<std::string, std::string> users;
  /// OAUTHBEARER: whether a client's bearer token is good (`why` says why
  /// not). With OAUTHBEARER in `mechanisms`; null refuses every token.
  std::function<bool(const std::string& token, std::string& why)> check_bearer;
  /// Called (from connection threads) with one line per refused client:
  /// failed handshakes and authentications. Never holds a secret.
  std::function<void(const std::string&)> on_refused;
};

/// Whether `token` looks like an MSK IAM token (base64url of a presigned
/// `kafka-cluster:Connect` URL, not expired): the check `kesm dev-broker
/// --sasl oauthbearer` makes. It cannot verify the signature: that needs
/// the secret key, which only AWS (or a test) has.
bool msk_token_shape(const std::string& token, std::string& why);

/// A TLS and SASL front for a plaintext Kafka cluster (the embedded
/// broker, whose mock speaks neither): one listener on 127.0.0.1 per
/// upstream broker; each connection is TLS-terminated (optionally checking
/// a client certificate), authenticated with SASL PLAIN or SCRAM as a
/// Kafka broker does it (SaslHandshake + SaslAuthenticate), then relayed to
/// its broker, with Metadata and FindCoordinator answers rewritten so
/// clients keep connecting through the front.
///
/// Lifecycle: `start` returns it serving; the destructor stops accepting,
/// closes every connection and joins its threads (within about 250 ms).
/// `set_password` and the counters may be called from any thread.
class secure_front {
public:
  /// Starts a front for `upstream` (`127.0.0.1:port,...`, the embedded
  /// broker's bootstrap list).
  static codecs::expected<std::unique_ptr<secure_front>>
  start(const std::string& upstream, front_options opts);

  ~secure_front();

  secure_front(const secure_front&) = delete;
  secure_front& operator=(const secure_front&) = delete;

  /// The front's `127.0.0.1:port,...` list, one per upstream broker.
  std::string bootstrap() const;

  /// Adds or changes a user (password rotation in tests).
  void set_password(const std::string& user, const std::string& password);

  /// Successful and refused authentications (SASL or client certificate).
  uint64_t accepted() const noexcept {
    return accepted_.load();
  }
  uint64_t refused() const noexcept {
    return refused_.load();
  }

private:
  struct worker {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  class connection;

  explicit secure_front(front_options opts);

  void accept_loop();
  void serve(int fd, int upstream_port);
  bool check_password(const std::string& user, const std::string& password);
  std::optional<std::string> password_of(const std::string& user);
  void refuse(const std::string& why);

  front_options opts_;
  SSL_CTX* ctx_ = nullptr;
  std::vector<int> listeners_;
  std::vector<int> listen_ports_;
  std::vector<int> upstream_ports_;
  std::map<int32_t, int32_t> port_map_; // upstream -> front
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
  std::mutex users_mtx_;
  std::mutex workers_mtx_;
  std::list<worker> workers_;
  std::thread acceptor_;
};

} // namespace kesm::transport::kafka_front
