#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "codecs/expected.hpp"

struct sqlite3;

namespace kesm::transport {

/// One stored mapping: its CreateEventSourceMapping document (with the
/// updates applied so far) and where it came from.
struct stored_mapping {
  std::string uuid;
  /// The mapping document, JSON with Lambda's field names.
  std::string document;
  /// `api` (created through the control plane) or `config` (the file).
  std::string source = "api";
  /// Epoch seconds of the last change.
  int64_t last_modified = 0;
};

/// The durable mapping store: one SQLite file in WAL mode with
/// `synchronous=FULL`, so a mapping whose `put` returned survives `kill -9`
/// and power loss. Not thread-safe: one owner (the mapping registry).
class mapping_store {
public:
  /// Opens (creating if needed) the store at `path`.
  static codecs::expected<mapping_store> open(const std::string& path);

  mapping_store(mapping_store&&) noexcept = default;
  mapping_store& operator=(mapping_store&&) noexcept = default;
  ~mapping_store();

  /// Inserts or replaces the mapping with `m.uuid`.
  codecs::expected<bool> put(const stored_mapping& m);

  /// Removes a mapping; false when there was none.
  codecs::expected<bool> erase(const std::string& uuid);

  /// Every stored mapping, oldest change first.
  codecs::expected<std::vector<stored_mapping>> load_all();

private:
  explicit mapping_store(sqlite3* db) : db_(db) {
    // nop
  }

  codecs::error failure(const std::string& what) const;

  struct closer {
    void operator()(sqlite3* db) const noexcept;
  };
  std::unique_ptr<sqlite3, closer> db_;
};

} // namespace kesm::transport
