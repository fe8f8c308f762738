#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "codecs/expected.hpp"

namespace kesm::transport::kafka_front {

/// The server side of one SCRAM-SHA-256/512 exchange (RFC 5802, RFC 7677),
/// as a Kafka broker runs it inside SaslAuthenticate: `first` answers the
/// client-first message, `final` checks the client's proof and answers with
/// the server signature. Credentials are derived from the plain password
/// (PBKDF2 with a fresh salt per exchange, 4096 iterations).
///
/// Lifecycle: one object per connection attempt, used by one thread.
class scram_server {
public:
  /// The password of a user, or nothing for an unknown user.
  using password_lookup
      = std::function<std::optional<std::string>(const std::string& user)>;

  /// `bits`: 256 or 512. `nonce` and `salt` are for tests (RFC 7677's
  /// vector); empty means random.
  scram_server(int bits, password_lookup lookup, std::string nonce = {},
               std::string salt = {}, int iterations = 4096);

  /// client-first-message -> server-first-message.
  codecs::expected<std::string> first(std::string_view client_first);

  /// client-final-message -> server-final-message (`v=...`); an error for
  /// a wrong proof, an unknown user or a nonce that does not match.
  codecs::expected<std::string> final(std::string_view client_final);

  /// The authenticated user (after a successful `final`).
  const std::string& user() const noexcept {
    return user_;
  }

private:
  int bits_;
  password_lookup lookup_;
  std::string nonce_;
  std::string salt_;
  int iterations_;
  std::string user_;
  std::optional<std::string> password_;
  std::string client_first_bare_;
  std::string server_first_;
};

/// The client side, for tests: the proof a client with `password` sends.
std::string scram_client_proof(int bits, const std::string& password,
                               const std::string& salt, int iterations,
                               const std::string& auth_message);

} // namespace kesm::transport::kafka_front
