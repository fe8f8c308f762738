#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/expected.hpp"
#include "codecs/mapping_config.hpp"

namespace kesm::codecs {

/// A function target declared in the config file's `functions`.
struct function_config {
  std::string name;
  /// `http://` or `https://` endpoint that receives the event as POST body.
  std::string url;
  /// Or a Lambda function for the Invoke API: name, `name:qualifier` or
  /// ARN (exactly one of `url` and `lambda`).
  std::string lambda;
  /// Lambda: region (else the ARN's, else AWS_REGION / profile / instance
  /// metadata) and endpoint (else AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL,
  /// then AWS's).
  std::string region;
  std::string endpoint;
  /// `url`: extra headers, a CA file, and SigV4 signing for a service
  /// (`"sign": "lambda"` for function URLs with IAM auth).
  std::map<std::string, std::string> headers;
  std::string ca_file;
  std::string sign;
  /// Per-invocation timeout, 1..840 s (Lambda's 14-minute cap).
  int timeout_seconds = 30;
};

/// The whole `kesm serve --config` file (README: "Configuration").
struct service_config {
  std::map<std::string, function_config> functions;
  cluster_map clusters;
  std::vector<mapping_config> mappings;
  /// Extra librdkafka consumer properties for every mapping (`kafka`).
  std::map<std::string, std::string> kafka;
  /// `allowed_clusters`: host patterns (`*` wildcards, optional `:port`)
  /// a mapping's bootstrap servers must match; empty: any cluster.
  std::vector<std::string> allowed_clusters;
  /// `api_access_keys`: access key id -> secret key for `--api-auth
  /// sigv4`; a value `${NAME}` is read from the environment.
  std::map<std::string, std::string> api_access_keys;
  /// Secrets for SourceAccessConfigurations (transport::config_secrets):
  /// `secrets` (ARN -> minified JSON object), `secrets_dir`, `secrets_env`.
  std::map<std::string, std::string> secrets;
  std::string secrets_dir;
  bool secrets_env = false;
  /// Secrets no local source holds are read from AWS Secrets Manager.
  bool secrets_manager = false;
  /// MSK mappings without SCRAM or client-certificate auth use IAM.
  bool msk_iam = false;
  /// Undeclared MSK clusters are resolved with GetBootstrapBrokers.
  bool msk_discovery = false;
};

/// Checks every bootstrap server of `cfg` against `allowed` (see
/// `service_config::allowed_clusters`); the error names the first server
/// that matches no pattern. Empty `allowed`: everything is allowed.
expected<bool> check_allowed_clusters(const mapping_config& cfg,
                                      const std::vector<std::string>& allowed);

/// Parses and validates a config file's text. Every mapping is validated
/// as CreateEventSourceMapping and must name a declared function; errors
/// say which mapping (by index) and which field.
expected<service_config> parse_service_config(std::string_view json,
                                              int64_t now_ms);

} // namespace kesm::codecs
