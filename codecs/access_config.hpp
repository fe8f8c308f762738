#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/expected.hpp"

namespace kesm::codecs {

/// One `SourceAccessConfigurations` entry.
struct access_entry {
  std::string type;
  std::string uri;
};

/// Reads the (validated, minified) SourceAccessConfigurations array.
expected<std::vector<access_entry>> parse_access(std::string_view json);

/// Checks the combination Lambda allows (esm-spec.md section 9): at most
/// one authentication (SASL_SCRAM_512_AUTH, SASL_SCRAM_256_AUTH,
/// BASIC_AUTH, CLIENT_CERTIFICATE_TLS_AUTH), at most one of each type, no
/// VIRTUAL_HOST (RabbitMQ); for an MSK cluster (`msk`) only SCRAM-512 and
/// client certificates.
expected<bool> check_access(const std::vector<access_entry>& entries,
                            bool msk);

/// A secret's string fields (Secrets Manager's JSON object); the error
/// names the secret, never a value.
expected<std::map<std::string, std::string>>
read_secret(const std::string& uri, const std::string& text);

/// The value of `key` in `secret` (of access type `type`), or an error
/// naming the secret and the key.
expected<std::string> need(const std::map<std::string, std::string>& secret,
                           const std::string& uri, const std::string& type,
                           const char* key);

/// The text of a secret (Secrets Manager's JSON object) by its ARN.
using secret_lookup = std::function<expected<std::string>(const std::string&)>;

/// The librdkafka properties that make a consumer (and the on-failure
/// producer) authenticate as `entries` say, with each secret read through
/// `lookup` and checked for Lambda's shape: `{"username","password"}` for
/// SASL, `{"certificate","privateKey"[,"privateKeyPassword"]}` for a client
/// certificate (PEM chain, PKCS#8 key), `{"certificate"}` for a root CA.
/// Secrets stay in memory (`ssl.*.pem`), never in files. An error names the
/// secret and the missing key, never a value. VPC entries add nothing.
expected<std::map<std::string, std::string>>
security_props(const std::vector<access_entry>& entries,
               const secret_lookup& lookup);

} // namespace kesm::codecs
