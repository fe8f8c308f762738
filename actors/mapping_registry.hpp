#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/supervisor.hpp"
#include "codecs/mapping_json.hpp"
#include "codecs/service_config.hpp"
#include "transport/api_server.hpp"
#include "transport/function_target.hpp"
#include "transport/mapping_store.hpp"
#include "transport/secrets.hpp"
#include "transport/aws/credentials.hpp"

namespace kesm::actors {

/// What the registry needs to run mappings.
struct registry_options {
  /// FunctionName -> target (names only; ARNs resolve to the name).
  std::map<std::string, transport::function_target_ptr> functions;
  codecs::cluster_map clusters;
  /// The config file's `allowed_clusters` (empty: any cluster).
  std::vector<std::string> allowed_clusters;
  codecs::arn_context arns;
  /// Mappings from the config file (marked `config`, never stored).
  std::vector<codecs::mapping_config> config_mappings;
  /// Secrets for SourceAccessConfigurations; null: a mapping that names
  /// one is refused.
  std::shared_ptr<transport::secret_source> secrets;
  /// The durable store of API-created mappings; may be null (tests).
  std::shared_ptr<transport::mapping_store> store;
  /// `"msk_iam": true`: an MSK mapping without SASL_SCRAM_512_AUTH or
  /// CLIENT_CERTIFICATE_TLS_AUTH authenticates with IAM, as on Lambda.
  bool msk_iam = false;
  /// Resolves an MSK cluster ARN the config does not declare to its
  /// bootstrap servers for an authentication (`iam`, `scram`, `tls`,
  /// `plaintext`); null: undeclared clusters are refused. Blocking.
  std::function<codecs::expected<std::vector<std::string>>(
    const std::string& arn, const std::string& auth)>
    discover_cluster;
  /// The process's AWS credentials (Glue schema registries), resolved on
  /// first use; null: none.
  std::function<codecs::expected<
    std::shared_ptr<transport::aws::credential_provider>>()>
    aws_credentials;
  /// Template for every mapping's runtime options (pollers, Kafka props).
  mapping_options defaults;
};

/// The config file's part of `registry_options`, read again on SIGHUP.
struct registry_reload {
  std::map<std::string, transport::function_target_ptr> functions;
  codecs::cluster_map clusters;
  std::vector<std::string> allowed_clusters;
  std::vector<codecs::mapping_config> config_mappings;
  std::shared_ptr<transport::secret_source> secrets;
};

/// Spawns the mapping registry on its own thread (its SQLite writes wait for
/// the disk). It is the single owner of mapping definitions and states: it
/// loads the store and the config file's mappings, runs one supervisor per
/// enabled mapping, and answers the control-plane API
/// (`(api_atom, api_request) -> api_reply`) with Lambda's paths, codes,
/// field names and error shapes (esm-spec.md section 9). The HTTP server
/// never touches a supervisor.
///
/// State machine per mapping: Creating -> Enabled (or Disabled); update:
/// Enabling / Disabling / Updating -> Enabled or Disabled (a changed
/// mapping's supervisor stops cleanly, committing, and a new one starts);
/// delete: Deleting -> gone.
///
/// `(reload_atom, registry_reload) -> std::string`: applies a re-read config
/// file: functions and clusters are replaced; config mappings that are new
/// start, changed ones are updated live (or enabled/disabled), missing
/// ones stop and go. Answers one line saying what changed.
caf::actor spawn_registry(caf::actor_system& sys, registry_options opts);

/// The handler of kesm's HTTP port (serve and the embedding API): the
/// Prometheus text at `/metrics` and the dashboard page at `/` without the
/// registry, everything else through `call_registry`. `sys` must outlive it.
transport::api_server::handler
api_handler(caf::actor_system& sys, caf::actor registry,
            std::shared_ptr<transport::metrics> metrics);

/// Blocking call from a non-actor thread (the HTTP server's pool).
transport::api_reply call_registry(caf::actor_system& sys,
                                   const caf::actor& registry,
                                   const transport::api_request& req);

} // namespace kesm::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kesm::transport::api_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kesm::transport::api_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kesm::actors::registry_reload)
