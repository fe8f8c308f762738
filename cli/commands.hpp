#pragma once

#include <string>
#include <vector>

namespace kesm::cli {

/// `kesm dev-broker`: options.
struct dev_broker_options {
  int brokers = 1;
  /// `name:partitions` entries.
  std::vector<std::string> topics;
  /// TLS with a throwaway CA in front of the brokers.
  bool tls = false;
  /// `mechanism:user:password` entries: SASL required.
  std::vector<std::string> sasl;
  /// Client certificates required (implies TLS).
  bool client_certs = false;
};

/// `kesm serve`: options.
struct serve_options {
  std::string config_path = "kesm.json";
  /// `text` or `json` log lines.
  std::string log_format = "text";
  int pollers = 1;
  /// Control-plane API address, HOST:PORT (port 0: any free port).
  std::string api = "127.0.0.1:9000";
  /// `sqlite:PATH` of the mapping store.
  std::string store = "sqlite:kesm-mappings.db";
  std::string region = "us-east-1";
  std::string account = "000000000000";
  /// Seconds a stop waits for in-flight calls before abandoning them.
  int shutdown_grace = 10;
  /// `none` or `sigv4` (keys from the config's `api_access_keys`).
  std::string api_auth = "none";
  /// Bearer token every API call must carry (or KESM_API_TOKEN).
  std::string api_token;
  /// Browser origins allowed to call the API.
  std::vector<std::string> allow_origins;
  /// Pollers all mappings of this process may run together.
  int max_pollers = 500;
  /// Seconds between scaling evaluations.
  int scaling_interval = 5;
};

/// `kesm demo`: options.
struct demo_options {
  int seconds = 0; // 0: until interrupted
  int rate = 1000;
  int partitions = 4;
  int batch_size = 100;
};

/// `kesm produce`: options.
struct produce_options {
  std::string bootstrap;
  std::string topic;
  int count = 1;
  int partition = -1;
  std::string value = "record";
  /// `name=value` librdkafka properties (security settings, say).
  std::vector<std::string> properties;
};

/// `kesm status`: options.
struct status_options {
  /// HOST:PORT of a running `kesm serve`'s API.
  std::string api = "127.0.0.1:9000";
  /// Bearer token (or KESM_API_TOKEN).
  std::string token;
  /// Print the raw JSON of /kesm/status instead of the table.
  bool json = false;
  /// Sign the request with SigV4 (kesm serve --api-auth sigv4), with the
  /// AWS credential chain's keys, for `region`.
  bool sigv4 = false;
  std::string region;
};

/// `kesm validate`: options.
struct validate_options {
  std::string config_path = "kesm.json";
};

int run_status(const status_options& opts);
int run_validate(const validate_options& opts);
int run_dev_broker(const dev_broker_options& opts);
int run_produce(const produce_options& opts);
int run_serve(const serve_options& opts);
int run_demo(const demo_options& opts);

} // namespace kesm::cli
