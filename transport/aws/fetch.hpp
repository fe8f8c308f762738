#pragma once

#include <string>
#include <utility>
#include <vector>

namespace kesm::transport::aws {

/// The answer to one blocking HTTP call.
struct fetch_answer {
  /// HTTP status; 0 when there was no answer (`error` says why).
  long status = 0;
  std::string body;
  std::string error;
  /// Response headers, names lower-case.
  std::vector<std::pair<std::string, std::string>> headers;

  std::string header(const std::string& lower_name) const;
};

/// TLS material for `fetch`, PEM text (empty: not used).
struct fetch_tls {
  /// Trust only this CA (instead of the system's).
  std::string ca_pem;
  /// Client certificate (chain) and private key, with the key's password.
  std::string cert_pem;
  std::string key_pem;
  std::string key_password;
};

/// One blocking HTTP call through libcurl (for credential sources, Secrets
/// Manager and other control-plane calls, never for invocations): at most
/// `timeout_ms`, connecting for at most a second. Call only from threads
/// that may block: the credential refresher, the registry's own thread,
/// startup.
fetch_answer
fetch(const std::string& method, const std::string& url,
      const std::vector<std::pair<std::string, std::string>>& headers,
      const std::string& body, long timeout_ms,
      const fetch_tls* tls = nullptr);

} // namespace kesm::transport::aws
