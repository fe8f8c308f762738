#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "codecs/avro.hpp"
#include "codecs/expected.hpp"
#include "codecs/json_schema.hpp"
#include "codecs/mapping_config.hpp"
#include "codecs/protobuf_schema.hpp"
#include "codecs/record.hpp"
#include "transport/aws/fetch.hpp"

namespace kesm::transport {

namespace aws {
class credential_provider;
}

/// One schema a registry returned, compiled for decoding.
struct registry_schema {
  std::string data_format; // AVRO, PROTOBUF, JSON
  std::string id;
  /// Views into `data_format` and `id`, for the event's metadata.
  codecs::schema_meta meta;
  std::optional<codecs::avro_schema> avro;
  std::optional<codecs::protobuf_schema> protobuf;
  std::optional<codecs::json_schema> json;
};
using registry_schema_ptr = std::shared_ptr<const registry_schema>;

/// Where a registry is and how to reach it (secrets already read).
struct registry_endpoint {
  /// Confluent URL, or a Glue registry ARN.
  std::string uri;
  std::string basic_user;
  std::string basic_password;
  aws::fetch_tls tls;
  /// Glue: the region (from the ARN), the endpoint (AWS_ENDPOINT_URL_GLUE
  /// or glue.REGION.amazonaws.com) and the process's AWS credentials.
  std::string glue_region;
  std::string glue_endpoint;
  std::shared_ptr<aws::credential_provider> credentials;
  /// Schemas kept (least recently used go first).
  size_t cache_capacity = 1000;

  /// Same registry, same credentials: one client serves both.
  std::string cache_key() const;
};

/// The answer of `schema_registry_client::find`.
struct schema_lookup {
  enum class state {
    /// `schema` is there.
    ready,
    /// A fetch is under way; `on_ready` will be called once.
    pending,
    /// The registry has no such schema, or it does not compile: the
    /// records that name it are failed records. `error` says why.
    missing,
    /// The registry cannot be reached (or answers 5xx, 401/403): not the
    /// records' fault; the partition waits. `error` says why.
    unavailable,
  };
  state st = state::pending;
  registry_schema_ptr schema;
  std::string error;
};

/// A schema registry client: fetches schemas by id on a thread of its own
/// (never on an actor), one fetch for all the callers waiting on one id,
/// and keeps them in a bounded LRU cache. Confluent's REST API
/// (`GET /schemas/ids/{id}`, `references` followed through
/// `/subjects/{subject}/versions/{version}`) or Glue's
/// `GetSchemaVersion` (SigV4). A registry that cannot be reached is asked
/// again after 1, 2, 4 ... 30 s; an unknown id is asked again after 60 s.
/// Thread-safe; destroying it never blocks.
class schema_registry_client {
public:
  explicit schema_registry_client(registry_endpoint ep);
  ~schema_registry_client();
  schema_registry_client(const schema_registry_client&) = delete;
  schema_registry_client& operator=(const schema_registry_client&) = delete;

  /// Never blocks. `pending`: `on_ready` runs (on the fetch thread) when
  /// the fetch ends, whatever its outcome; call `find` again then.
  schema_lookup find(const std::string& id, std::function<void()> on_ready);

  /// Fetches done so far (for tests and metrics).
  uint64_t fetches() const;

  /// The shared client of `ep`'s registry and credentials.
  static std::shared_ptr<schema_registry_client>
  shared(const registry_endpoint& ep);

  struct core;

private:
  /// Everything the fetch thread touches: the thread holds it too, so a
  /// client released on an actor's thread never waits for a fetch (the
  /// thread finishes on its own and drops its callbacks).
  std::shared_ptr<core> core_;
};

/// Reads the registry's AccessConfigs secrets (`BASIC_AUTH`:
/// username/password; `CLIENT_CERTIFICATE_TLS_AUTH`: certificate,
/// privateKey, privateKeyPassword; `SERVER_ROOT_CA_CERTIFICATE`:
/// certificate) through `secrets`, and for Glue the region and endpoint.
class secret_source;
codecs::expected<registry_endpoint>
make_registry_endpoint(const codecs::schema_registry_config& cfg,
                       const secret_source* secrets,
                       std::shared_ptr<aws::credential_provider> credentials);

} // namespace kesm::transport
