#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kesm::transport::kafka_front {

/// Kafka API keys the front reads or answers.
enum class api : int16_t {
  metadata = 3,
  find_coordinator = 10,
  sasl_handshake = 17,
  api_versions = 18,
  sasl_authenticate = 36,
};

/// Kafka error codes the front answers with.
enum class kafka_error : int16_t {
  none = 0,
  /// SaslHandshake: the mechanism is not enabled on this listener.
  unsupported_sasl_mechanism = 33,
  /// A request out of order during authentication.
  illegal_sasl_state = 34,
  /// SaslAuthenticate: wrong user or password.
  sasl_authentication_failed = 58,
};

/// A request's header (v1/v2: the fields before any tagged field).
struct request_header {
  int16_t key = 0;
  int16_t version = 0;
  int32_t correlation_id = 0;
  /// Offset of the body (after client_id) in the frame; valid only for
  /// non-flexible headers (the SASL requests).
  size_t body_at = 0;
};

/// Reads a request frame (without its 4-byte size); nothing when short.
std::optional<request_header> read_request_header(std::string_view frame);

/// The mechanism of a SaslHandshake request body, or nothing.
std::optional<std::string> read_handshake(std::string_view body);

/// The auth bytes of a SaslAuthenticate v0/v1 request body, or nothing.
std::optional<std::string> read_authenticate(std::string_view body);

/// A whole response frame (with its size) for `correlation_id` and `body`.
std::string response_frame(int32_t correlation_id, std::string_view body);

/// SaslHandshake response body.
std::string handshake_response(kafka_error err,
                               const std::vector<std::string>& mechanisms);

/// SaslAuthenticate v0/v1 response body.
std::string authenticate_response(int16_t version, kafka_error err,
                                  const std::string& message,
                                  const std::string& auth_bytes);

/// Rewrites a response body so clients stay on the front: broker addresses
/// in Metadata (v0-v8) and FindCoordinator (v0-v2) responses become
/// `host` and the front port of the broker (`ports`: broker port -> front
/// port); ApiVersions (v0-v2) responses advertise SaslHandshake v0-v1 and
/// SaslAuthenticate v0-v1 when `sasl`, and cap Metadata at v8 and
/// FindCoordinator at v2 (the versions rewritten here). Other bodies, and
/// bodies it cannot read, come back unchanged.
std::string rewrite_response(api key, int16_t version, std::string_view body,
                             const std::string& host,
                             const std::map<int32_t, int32_t>& ports,
                             bool sasl);

} // namespace kesm::transport::kafka_front
