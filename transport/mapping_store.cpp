#include "transport/mapping_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

namespace kesm::transport {

namespace {

/// A prepared statement that finalizes itself.
struct statement {
  sqlite3_stmt* stmt = nullptr;
  ~statement() {
    sqlite3_finalize(stmt);
  }
};

constexpr const char* schema
  = "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS mappings ("
    "  uuid TEXT PRIMARY KEY,"
    "  document TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  last_modified INTEGER NOT NULL);";

} // namespace

void mapping_store::closer::operator()(sqlite3* db) const noexcept {
  sqlite3_close_v2(db);
}

mapping_store::~mapping_store() = default;

codecs::error mapping_store::failure(const std::string& what) const {
  return codecs::error{codecs::errc::invalid_parameter,
                       "mapping store: " + what + ": "
                         + (db_ ? sqlite3_errmsg(db_.get()) : "not open")};
}

codecs::expected<mapping_store> mapping_store::open(const std::string& path) {
  // Private to its owner: mappings name clusters and secrets' ARNs. SQLite
  // gives its -wal and -shm files the database file's mode.
  if (int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      fd >= 0) {
    ::fchmod(fd, 0600);
    ::close(fd);
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                             | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  mapping_store store{db};
  if (rc != SQLITE_OK)
    return codecs::error{codecs::errc::invalid_parameter,
                         "cannot open the mapping store " + path + ": "
                           + (db ? sqlite3_errmsg(db) : "out of memory")
                           + "; check the --store path and its permissions"};
  char* err = nullptr;
  if (sqlite3_exec(db, schema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string text = err ? err : "unknown error";
    sqlite3_free(err);
    return codecs::error{codecs::errc::invalid_parameter,
                         "cannot initialise the mapping store " + path + ": "
                           + text};
  }
  return store;
}

codecs::expected<bool> mapping_store::put(const stored_mapping& m) {
  statement st;
  if (sqlite3_prepare_v2(db_.get(),
                         "INSERT OR REPLACE INTO mappings (uuid, document,"
                         " source, last_modified) VALUES (?1, ?2, ?3, ?4)",
                         -1, &st.stmt, nullptr)
      != SQLITE_OK)
    return failure("prepare put");
  sqlite3_bind_text(st.stmt, 1, m.uuid.data(), static_cast<int>(m.uuid.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_text(st.stmt, 2, m.document.data(),
                    static_cast<int>(m.document.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st.stmt, 3, m.source.data(),
                    static_cast<int>(m.source.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.stmt, 4, m.last_modified);
  if (sqlite3_step(st.stmt) != SQLITE_DONE)
    return failure("write " + m.uuid);
  return true;
}

codecs::expected<bool> mapping_store::erase(const std::string& uuid) {
  statement st;
  if (sqlite3_prepare_v2(db_.get(), "DELETE FROM mappings WHERE uuid = ?1", -1,
                         &st.stmt, nullptr)
      != SQLITE_OK)
    return failure("prepare erase");
  sqlite3_bind_text(st.stmt, 1, uuid.data(), static_cast<int>(uuid.size()),
                    SQLITE_TRANSIENT);
  if (sqlite3_step(st.stmt) != SQLITE_DONE)
    return failure("delete " + uuid);
  return sqlite3_changes(db_.get()) > 0;
}

codecs::expected<std::vector<stored_mapping>> mapping_store::load_all() {
  statement st;
  if (sqlite3_prepare_v2(db_.get(),
                         "SELECT uuid, document, source, last_modified FROM"
                         " mappings ORDER BY last_modified, uuid",
                         -1, &st.stmt, nullptr)
      != SQLITE_OK)
    return failure("prepare load");
  std::vector<stored_mapping> out;
  int rc;
  auto text = [&](int col) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(st.stmt, col));
    return std::string(p ? p : "",
                       static_cast<size_t>(sqlite3_column_bytes(st.stmt, col)));
  };
  while ((rc = sqlite3_step(st.stmt)) == SQLITE_ROW) {
    stored_mapping m;
    m.uuid = text(0);
    m.document = text(1);
    m.source = text(2);
    m.last_modified = sqlite3_column_int64(st.stmt, 3);
    out.push_back(std::move(m));
  }
  if (rc != SQLITE_DONE)
    return failure("read mappings");
  return out;
}

} // namespace kesm::transport
