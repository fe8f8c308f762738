#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "codecs/expected.hpp"
#include "transport/aws/signer.hpp"

namespace kesm::transport::aws {

/// Credentials from the SDKs' default chain, in their order: the
/// environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`); the shared files (`AWS_SHARED_CREDENTIALS_FILE` or
/// `~/.aws/credentials`, then `AWS_CONFIG_FILE` or `~/.aws/config`, profile
/// `AWS_PROFILE` or `default`); web identity (`AWS_WEB_IDENTITY_TOKEN_FILE`
/// + `AWS_ROLE_ARN`, through STS AssumeRoleWithWebIdentity); ECS container
/// credentials (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `_FULL_URI`,
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]`); EC2 instance metadata with
/// an IMDSv2 token (`AWS_EC2_METADATA_SERVICE_ENDPOINT`, off with
/// `AWS_EC2_METADATA_DISABLED=true`). Blocking: network sources are called.
/// The error says which sources were tried; it never holds a secret.
codecs::expected<credentials> resolve_credentials();

/// Field `index` of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:...`,
/// 0-based: 2 is the service, 3 the region), or empty when `arn` is no ARN
/// or has fewer fields.
std::string arn_field(const std::string& arn, size_t index);

/// The region of an ARN, or empty.
inline std::string arn_region(const std::string& arn) {
  return arn_field(arn, 3);
}

/// The region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`,
/// then instance metadata; empty when none. Blocking.
std::string resolve_region();

/// The endpoint of an AWS service as the SDKs pick it:
/// `AWS_ENDPOINT_URL_<SERVICE_ID>` (e.g. `LAMBDA`, `SECRETS_MANAGER`,
/// `KAFKA`, `STS`), `AWS_ENDPOINT_URL`, then
/// `https://<host_prefix>.<region>.amazonaws.com`.
std::string endpoint_for(const std::string& service_id,
                         const std::string& host_prefix,
                         const std::string& region);

/// Credentials kept fresh for callers that must not block (actors, the
/// HTTP I/O thread, librdkafka's token callback): `start` resolves them
/// once (blocking, at startup); a thread of its own then refreshes them 5
/// minutes before they expire (long-term keys: every 5 minutes, so edited
/// files are seen) and retries a failed refresh every 10 s while the old
/// ones still hold.
///
/// Lifecycle: `start` once from the main thread; `current` from any
/// thread; the destructor stops the refresher.
class credential_provider {
public:
  credential_provider() = default;
  ~credential_provider();

  credential_provider(const credential_provider&) = delete;
  credential_provider& operator=(const credential_provider&) = delete;

  /// Resolves now; the error is why no credentials were found.
  codecs::expected<bool> start();

  /// The cached credentials (never blocks); an error when none are valid.
  codecs::expected<credentials> current() const;

  /// Seconds between looks for refresh (tests shorten it).
  void set_check_interval(std::chrono::milliseconds d) {
    check_ = d;
  }

private:
  void run();

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  credentials creds_;
  std::string last_error_;
  std::chrono::system_clock::time_point fetched_{};
  bool stop_ = false;
  std::chrono::milliseconds check_{10000};
  std::thread thread_;
};

} // namespace kesm::transport::aws
