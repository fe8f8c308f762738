#pragma once

#include <chrono>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

namespace kesm::transport::aws {

/// AWS credentials; `expiration` is zero for long-term keys.
struct credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  std::chrono::system_clock::time_point expiration{};

  bool empty() const noexcept {
    return access_key.empty() || secret_key.empty();
  }
};

/// One outgoing AWS call, before and after signing.
struct aws_request {
  std::string method = "POST";
  /// `https://host[:port]/path?query`, path and query percent-encoded as
  /// sent.
  std::string url;
  /// Header name -> value, in the order sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Hex SHA-256 of the body when already known (then `body` is unused).
  std::string payload_hash;
};

/// Signs `req` in the header form, as botocore's SigV4Auth does: adds
/// `X-Amz-Date`, `X-Amz-Security-Token` (with a session token) and
/// `Authorization`, signing every header but Expect, User-Agent and
/// X-Amzn-Trace-Id, plus Host. `now`: seconds since the epoch.
void sign(aws_request& req, const credentials& creds, const std::string& region,
          const std::string& service, std::time_t now);

/// A presigned GET URL for `url` (the query form, as botocore's
/// SigV4QueryAuth builds it: the URL's own parameters, then X-Amz-Algorithm,
/// -Credential, -Date, -Expires, -SignedHeaders (host), -Security-Token,
/// and last X-Amz-Signature).
std::string presign(const std::string& url, const credentials& creds,
                    const std::string& region, const std::string& service,
                    int expires_seconds, std::time_t now);

/// The SASL/OAUTHBEARER token MSK IAM accepts, as AWS's
/// aws-msk-iam-sasl-signer libraries make it: the base64url (unpadded)
/// text of a URL presigned for `kafka-cluster` in `region`:
/// `https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect`
/// with X-Amz-Expires=900, then `&User-Agent=<user_agent>`.
std::string msk_iam_token(const credentials& creds, const std::string& region,
                          std::time_t now, const std::string& user_agent);

/// `YYYYMMDDTHHMMSSZ` of `now`.
std::string amz_date(std::time_t now);

/// The parts of a URL kesm sends AWS calls to.
struct url_parts {
  std::string scheme;
  /// `host` or `host:port` (the port only when not the scheme's default),
  /// as the Host header carries it.
  std::string host;
  std::string path;  // "/..." percent-encoded
  std::string query; // without '?'
};
url_parts split_url(const std::string& url);

} // namespace kesm::transport::aws
