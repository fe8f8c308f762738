#include "transport/record_chunk.hpp"

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "codecs/event_writer.hpp"
#include "transport/log.hpp"

namespace kesm::transport {

namespace {

/// librdkafka 2.0.2's `rd_kafka_msg_t` (src/rdkafka_msg.h), as far as the
/// consumer's unparsed headers (`rkm_u.consumer.binhdrs`, a pointer into
/// the fetch response, set by the message set reader). Read only: the
/// fields before the headers are checked against the public accessors for
/// every message, and the first header block read is compared with
/// `rd_kafka_message_headers`; any difference turns direct reading off.
struct rdkafka_2_0_2_msg {
  rd_kafka_message_t rkmessage;
  void* link_next; // TAILQ_ENTRY(rd_kafka_msg_s) rkm_link
  void** link_prev;
  int flags;
  rd_kafka_timestamp_type_t tstype;
  int64_t timestamp;
  rd_kafka_headers_t* headers; // parsed headers, if anyone asked
  int status;                  // rd_kafka_msg_status_t
  int32_t broker_id;
  int32_t binhdrs_len; // rkm_u.consumer.binhdrs (rd_kafkap_bytes_t)
  const void* binhdrs_data;
};

constexpr int rdkafka_msg_f_producer = 0x40000; // RD_KAFKA_MSG_F_PRODUCER
constexpr int rdkafka_mirrored_version = 0x020002ff;

enum direct_mode : int { direct_off, direct_unverified, direct_verified };

int initial_direct_mode() {
  if (rd_kafka_version() != rdkafka_mirrored_version)
    return direct_off;
  const char* env = std::getenv("KESM_DIRECT_HEADERS");
  if (env != nullptr && std::strcmp(env, "0") == 0)
    return direct_off;
  return direct_unverified;
}

std::atomic<int>& direct_state() {
  static std::atomic<int> state{initial_direct_mode()};
  return state;
}

void turn_direct_off(const char* why) {
  if (direct_state().exchange(direct_off) != direct_off)
    log(log_level::warning, "kafka",
        std::string("reading record headers through librdkafka's parser "
                    "from now on: ")
          + why);
}

/// Reads one zigzag varint (Kafka's record format) from [p, end).
bool read_varint(const uint8_t*& p, const uint8_t* end, int64_t& out) {
  uint64_t u = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    uint8_t b = *p++;
    u |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      out = static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
      return true;
    }
  }
  return false;
}

/// Parses a record's header block (count, then name and value per
/// header) into `out`; false if it is malformed (nothing appended then).
bool parse_header_block(const uint8_t* p, size_t len,
                        std::vector<codecs::header_view>& out,
                        size_t& bytes) {
  const uint8_t* end = p + len;
  int64_t count = 0;
  if (!read_varint(p, end, count) || count > 100000)
    return false;
  size_t first = out.size();
  size_t sum = 0;
  for (int64_t i = 0; i < count; ++i) {
    int64_t name_len = 0, value_len = 0;
    if (!read_varint(p, end, name_len) || name_len < 0
        || name_len > end - p) {
      out.resize(first);
      return false;
    }
    auto name = reinterpret_cast<const char*>(p);
    p += name_len;
    if (!read_varint(p, end, value_len) || value_len < -1
        || value_len > end - p) {
      out.resize(first);
      return false;
    }
    const void* value = nullptr;
    if (value_len >= 0) {
      value = p;
      p += value_len;
      sum += static_cast<size_t>(value_len);
    }
    // Filled in place: a temporary copied in would be stored as 8-byte
    // words and loaded back as 16-byte ones, a store-forwarding stall
    // per header (44 % of this function's samples in a 64-partition
    // profile).
    auto& h = out.emplace_back();
    h.name = std::string_view{name, static_cast<size_t>(name_len)};
    h.value = value;
    h.value_len = value_len >= 0 ? static_cast<size_t>(value_len) : 0;
  }
  bytes = sum;
  return true;
}

/// Through librdkafka's parser (which keeps the parsed list with the
/// message until it is destroyed).
size_t append_parsed_headers(const rd_kafka_message_t* msg,
                             std::vector<codecs::header_view>& out) {
  size_t bytes = 0;
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return 0;
  const char* name;
  const void* value;
  size_t size;
  for (size_t idx = 0; rd_kafka_header_get_all(hdrs, idx, &name, &value,
                                               &size)
                       == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++idx) {
    out.push_back(codecs::header_view{name, value, size});
    bytes += size;
  }
  return bytes;
}

bool same_headers(const codecs::header_view* a, const codecs::header_view* b,
                  size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (a[i].name != b[i].name || (a[i].value == nullptr) != (b[i].value == nullptr)
        || a[i].value_len != b[i].value_len
        || (a[i].value_len > 0
            && std::memcmp(a[i].value, b[i].value, a[i].value_len) != 0))
      return false;
  }
  return true;
}

struct pool_state {
  std::mutex mtx;
  std::array<std::vector<char*>, byte_pool::max_class + 1> idle;
  size_t idle_bytes = 0;
};

pool_state& pool() {
  // Never destroyed: chunks may be freed by threads that outlive statics.
  static auto* p = new pool_state;
  return *p;
}

size_t size_class(size_t n) {
  size_t k = byte_pool::min_class;
  while ((size_t{1} << k) < n)
    ++k;
  return k;
}

bool initial_copy_mode() {
  const char* env = std::getenv("KESM_COPY_RECORDS");
  return env == nullptr || std::strcmp(env, "0") != 0;
}

std::atomic<bool>& copy_state() {
  static std::atomic<bool> state{initial_copy_mode()};
  return state;
}

/// Copies `len` bytes from `src` to `at`, returns where they now are;
/// a null `src` stays null (no key, a tombstone, a header without value).
const void* relocate(const void* src, size_t len, char*& at) {
  if (src == nullptr)
    return nullptr;
  if (len > 0)
    std::memcpy(at, src, len);
  auto* out = at;
  at += len;
  return out;
}

/// Moves every byte the chunk's records and headers point at into one
/// pooled buffer, then destroys the messages.
void copy_out(record_chunk& c) {
  size_t total = 0;
  for (auto& r : c.records)
    total += r.key_len + r.value_len;
  for (auto& h : c.headers)
    total += h.name.size() + h.value_len;
  c.copied = byte_pool::take(total);
  c.copy_bytes = total;
  char* at = c.copied.get();
  for (auto& r : c.records) {
    r.key = relocate(r.key, r.key_len, at);
    r.value = relocate(r.value, r.value_len, at);
  }
  for (auto& h : c.headers) {
    auto* name = static_cast<const char*>(relocate(h.name.data(), h.name.size(), at));
    h.name = std::string_view{name == nullptr ? "" : name, h.name.size()};
    h.value = relocate(h.value, h.value_len, at);
  }
  c.messages.clear();
}

} // namespace

void byte_pool::giver::operator()(char* p) const noexcept {
  give_back(p, capacity);
}

byte_pool::buffer byte_pool::take(size_t n) {
  size_t k = size_class(n);
  if (k > max_class)
    return buffer{new char[n], giver{0}};
  auto& st = pool();
  {
    std::lock_guard<std::mutex> guard{st.mtx};
    auto& idle = st.idle[k];
    if (!idle.empty()) {
      char* p = idle.back();
      idle.pop_back();
      st.idle_bytes -= size_t{1} << k;
      return buffer{p, giver{size_t{1} << k}};
    }
  }
  return buffer{new char[size_t{1} << k], giver{size_t{1} << k}};
}

void byte_pool::give_back(char* p, size_t capacity) noexcept {
  if (p == nullptr)
    return;
  if (capacity != 0) {
    auto& st = pool();
    std::lock_guard<std::mutex> guard{st.mtx};
    if (st.idle_bytes + capacity <= max_idle_bytes) {
      try {
        st.idle[size_class(capacity)].push_back(p);
        st.idle_bytes += capacity;
        return;
      } catch (...) { // no room for the pointer: free the buffer
      }
    }
  }
  delete[] p;
}

size_t byte_pool::idle_bytes() {
  auto& st = pool();
  std::lock_guard<std::mutex> guard{st.mtx};
  return st.idle_bytes;
}

vector_pool<codecs::record_view>& record_view_pool() {
  static auto* p = new vector_pool<codecs::record_view>(size_t{16} << 20, size_t{4} << 20);
  return *p;
}

vector_pool<codecs::header_view>& header_view_pool() {
  static auto* p = new vector_pool<codecs::header_view>(size_t{16} << 20, size_t{4} << 20);
  return *p;
}

namespace {

vector_pool<uint32_t>& cost_pool() {
  static auto* p = new vector_pool<uint32_t>(size_t{4} << 20, size_t{1} << 20);
  return *p;
}

vector_pool<message_ptr>& message_pool() {
  static auto* p = new vector_pool<message_ptr>(size_t{4} << 20, size_t{1} << 20);
  return *p;
}

} // namespace

record_chunk::~record_chunk() {
  message_pool().give(messages); // destroys the messages first
  record_view_pool().give(records);
  header_view_pool().give(headers);
  cost_pool().give(costs);
}

bool copy_records() {
  return copy_state().load(std::memory_order_relaxed);
}

bool set_copy_records(bool on) {
  return copy_state().exchange(on);
}

bool direct_headers() {
  return direct_state().load(std::memory_order_relaxed) != direct_off;
}

bool set_direct_headers(bool on) {
  bool was = direct_headers();
  int mode = on && rd_kafka_version() == rdkafka_mirrored_version
               ? direct_unverified
               : direct_off;
  direct_state().store(mode);
  return was;
}

size_t append_headers(const rd_kafka_message_t* msg,
                      std::vector<codecs::header_view>& out) {
  int mode = direct_state().load(std::memory_order_relaxed);
  if (mode == direct_off)
    return append_parsed_headers(msg, out);
  auto* m = reinterpret_cast<const rdkafka_2_0_2_msg*>(msg);
  if (m->headers != nullptr) // parsed already (an interceptor, a test)
    return append_parsed_headers(msg, out);
  rd_kafka_timestamp_type_t tstype;
  int64_t ts = rd_kafka_message_timestamp(msg, &tstype);
  if (m->tstype != tstype || m->timestamp != ts
      || (m->flags & rdkafka_msg_f_producer) != 0 || m->binhdrs_len < 0
      || (m->binhdrs_len > 0 && m->binhdrs_data == nullptr)) {
    turn_direct_off("a consumed message does not have librdkafka 2.0.2's "
                    "layout");
    return append_parsed_headers(msg, out);
  }
  if (m->binhdrs_len == 0)
    return 0;
  size_t first = out.size();
  size_t bytes = 0;
  if (!parse_header_block(static_cast<const uint8_t*>(m->binhdrs_data),
                          static_cast<size_t>(m->binhdrs_len), out, bytes))
    return append_parsed_headers(msg, out); // librdkafka's verdict on it
  if (mode == direct_unverified) {
    // The first block: librdkafka's parser must read the same headers.
    std::vector<codecs::header_view> parsed;
    append_parsed_headers(msg, parsed);
    if (parsed.size() != out.size() - first
        || !same_headers(parsed.data(), out.data() + first, parsed.size())) {
      out.resize(first);
      turn_direct_off("its header bytes did not read as librdkafka reads "
                      "them");
      return append_parsed_headers(msg, out);
    }
    int expected = direct_unverified;
    direct_state().compare_exchange_strong(expected, direct_verified);
  }
  return bytes;
}

std::shared_ptr<record_chunk> make_chunk(const std::string& topic, int32_t partition,
                     rd_kafka_message_t** msgs, size_t n,
                     std::vector<std::string>* errors) {
  auto chunk = std::make_shared<record_chunk>();
  chunk->topic = topic;
  chunk->partition = partition;
  chunk->messages = message_pool().take(n);
  chunk->records = record_view_pool().take(n);
  // Headers are gathered in this thread's scratch vector, then copied once
  // into an array of exactly their number: no growing (a copy of the
  // whole array at each doubling, and fresh pages to fault in) per chunk.
  thread_local std::vector<codecs::header_view> gathered;
  gathered.clear();
  for (size_t i = 0; i < n; ++i) {
    message_ptr msg{msgs[i]};
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (errors != nullptr)
        errors->push_back(rd_kafka_message_errstr(msg.get()));
      continue;
    }
    codecs::record_view r;
    r.offset = msg->offset;
    rd_kafka_timestamp_type_t tstype;
    r.timestamp = rd_kafka_message_timestamp(msg.get(), &tstype);
    r.ts_type = tstype == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME
                  ? codecs::timestamp_type::log_append_time
                  : codecs::timestamp_type::create_time;
    r.key = msg->key;
    r.key_len = msg->key_len;
    r.value = msg->payload;
    r.value_len = msg->len;
    size_t first = gathered.size();
    chunk->bytes += append_headers(msg.get(), gathered);
    r.header_count = gathered.size() - first;
    chunk->bytes += r.key_len + r.value_len + record_overhead;
    chunk->records.push_back(r);
    chunk->next_offset = msg->offset + 1;
    chunk->messages.push_back(std::move(msg));
  }
  chunk->headers = header_view_pool().take(gathered.size());
  chunk->headers.assign(gathered.begin(), gathered.end());
  // A chunk of unusually many headers does not leave a large scratch
  // array behind on this thread.
  if (gathered.capacity() > (size_t{1} << 15))
    std::vector<codecs::header_view>{}.swap(gathered);
  if (copy_records() && !chunk->messages.empty())
    copy_out(*chunk);
  // Header views point into the chunk's own array, now final: each
  // record's are the next `header_count` of them.
  chunk->costs = cost_pool().take(chunk->records.size());
  size_t first_header = 0;
  for (auto& r : chunk->records) {
    r.headers = r.header_count > 0 ? chunk->headers.data() + first_header
                                   : nullptr;
    first_header += r.header_count;
    chunk->costs.push_back(static_cast<uint32_t>(
      codecs::event_writer::record_variable_size(r) + 1));
  }
  return chunk;
}

} // namespace kesm::transport
