#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "transport/aws/credentials.hpp"
#include "transport/secrets.hpp"

namespace kesm::transport::aws {

/// Secrets from the config file first; a secret no local source holds is
/// read with Secrets Manager's GetSecretValue (JSON 1.1, signed, region
/// from the ARN, endpoint `AWS_ENDPOINT_URL_SECRETS_MANAGER` or AWS's),
/// cached for 15 minutes and dropped by `forget` after an authentication
/// failure (rotation). `credentials` is called on first use.
///
/// Blocking on a fetch (5 s at most): called by the registry's own thread
/// and at startup, never by a pooled actor. Thread-safe.
class secrets_manager_source : public secret_source {
public:
  using credentials_fn
      = std::function<codecs::expected<std::shared_ptr<credential_provider>>()>;

  secrets_manager_source(std::shared_ptr<secret_source> local,
                         credentials_fn credentials)
      : local_(std::move(local)), credentials_(std::move(credentials)) {
    // nop
  }

  codecs::expected<std::string> get(const std::string& arn) const override;
  void forget(const std::string& arn) const override;

private:
  struct cached {
    std::string text;
    std::chrono::steady_clock::time_point at;
  };

  std::shared_ptr<secret_source> local_;
  credentials_fn credentials_;
  mutable std::mutex mtx_;
  mutable std::map<std::string, cached> cache_;
};

} // namespace kesm::transport::aws
