#pragma once

#include <functional>
#include <memory>
#include <string>

#include "codecs/mapping_config.hpp"
#include "transport/record_chunk.hpp"
#include "transport/schema_registry.hpp"

namespace kesm::transport {

/// A mapping's schema registry: its configuration and the (shared) client.
struct schema_decoding {
  codecs::schema_registry_config cfg;
  std::shared_ptr<schema_registry_client> client;
};
using schema_decoding_ptr = std::shared_ptr<const schema_decoding>;

/// Where `decode_chunk` stopped.
struct decode_step {
  enum class state {
    /// Every record from `next` on is decoded or marked failed.
    done,
    /// A schema is being fetched; `wake` will be called; call again.
    waiting,
    /// The registry cannot be reached; `error` says why; call again later.
    unavailable,
  };
  state st = state::done;
  std::string error;
  /// Records marked failed (`schema_error`) in this call.
  size_t failed = 0;
};

/// Checks and decodes the key and/or value (as `SchemaValidationConfigs`
/// says) of `c`'s records from index `next` on, in order, advancing
/// `next`: JSON mode puts the decoded JSON in the record's place, SOURCE
/// the bytes after the wire prefix; each checked attribute gets its
/// schema metadata. A record without the prefix, naming a schema the
/// registry does not have, or with bytes that do not decode is marked
/// failed (`schema_error`, its bytes left as they are). Stops at the first
/// record whose schema is not cached yet (`waiting`) or whose registry is
/// down (`unavailable`): nothing after it is touched, so order holds.
/// Never blocks. Keeps the schemas it used alive in the chunk.
decode_step decode_chunk(record_chunk& c, size_t& next,
                         const schema_decoding& d, std::function<void()> wake);

} // namespace kesm::transport
