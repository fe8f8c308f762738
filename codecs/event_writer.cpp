#include "codecs/event_writer.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "codecs/base64.hpp"

namespace kesm::codecs {

namespace {

/// "-128".."127" for every byte value, as Java prints a signed byte.
struct signed_byte_table {
  std::array<std::array<char, 4>, 256> text{};
  std::array<uint8_t, 256> len{};
  signed_byte_table() {
    for (int b = 0; b < 256; ++b) {
      auto v = static_cast<int8_t>(static_cast<uint8_t>(b));
      auto& t = text[static_cast<size_t>(b)];
      auto res = std::to_chars(t.data(), t.data() + t.size(), int{v});
      len[static_cast<size_t>(b)] = static_cast<uint8_t>(res.ptr - t.data());
    }
  }
};

const signed_byte_table bytes_table;

/// Decimal digits of `v` (a minus sign counts): one bit scan and one
/// comparison, not a division per digit (a 13-digit timestamp took 12).
size_t digits(int64_t v) {
  static constexpr uint64_t pow10[20] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
    10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
    100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
    100000000000000000ULL, 1000000000000000000ULL,
    10000000000000000000ULL};
  size_t sign = v < 0 ? 1 : 0;
  uint64_t u = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1
                     : static_cast<uint64_t>(v);
  // u | 1: 0 has one digit, and powers of ten are even, so the bit does
  // not move u across one.
  uint64_t w = u | 1;
  // floor(log10(w)) is t or t - 1, t from the bit length (1233 / 4096 ~
  // log10(2)).
  auto bits = static_cast<unsigned>(64 - __builtin_clzll(w));
  auto t = static_cast<size_t>((bits * 1233U) >> 12);
  return sign + t - (w < pow10[t] ? 1 : 0) + 1;
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, res.ptr);
}

size_t json_string_size(std::string_view s) {
  size_t n = 2;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n'
        || c == '\r' || c == '\t')
      n += 2;
    else if (c < 0x20)
      n += 6;
    else
      n += 1;
  }
  return n;
}

size_t signed_bytes_size(const void* data, size_t n) {
  size_t total = 2 + (n > 0 ? n - 1 : 0);
  auto p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i)
    total += bytes_table.len[p[i]];
  return total;
}

constexpr std::string_view k_topic = "{\"topic\":";
constexpr std::string_view k_partition = ",\"partition\":";
constexpr std::string_view k_offset = ",\"offset\":";
constexpr std::string_view k_timestamp = ",\"timestamp\":";
constexpr std::string_view k_create = ",\"timestampType\":\"CREATE_TIME\"";
constexpr std::string_view k_append = ",\"timestampType\":\"LOG_APPEND_TIME\"";
constexpr std::string_view k_key = ",\"key\":\"";
constexpr std::string_view k_value = ",\"value\":\"";
constexpr std::string_view k_null_value = ",\"value\":null";
constexpr std::string_view k_headers = ",\"headers\":[";
constexpr std::string_view k_key_schema = ",\"keySchemaMetadata\":{\"dataFormat\":";
constexpr std::string_view k_value_schema
  = ",\"valueSchemaMetadata\":{\"dataFormat\":";
constexpr std::string_view k_schema_id = ",\"schemaId\":";

/// `{"topic":"t","partition":3,"offset":`, the same for every record of
/// one partition.
std::string record_prefix(std::string_view topic, int32_t partition) {
  std::string p;
  p.append(k_topic);
  event_writer::append_json_string(p, topic);
  p.append(k_partition);
  append_int(p, partition);
  p.append(k_offset);
  return p;
}

/// Copies `s` to `p`; returns the end.
char* put(char* p, std::string_view s) noexcept {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

char* put_int(char* p, int64_t v) noexcept {
  return std::to_chars(p, p + 24, v).ptr;
}

/// Writes `s` as a JSON string at `p` (room for `json_string_size(s)`);
/// returns the end.
char* put_json_string(char* p, std::string_view s) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  *p++ = '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != '"' && c != '\\') {
      *p++ = ch;
      continue;
    }
    *p++ = '\\';
    switch (c) {
      case '"':
      case '\\':
        *p++ = ch;
        break;
      case '\b':
        *p++ = 'b';
        break;
      case '\f':
        *p++ = 'f';
        break;
      case '\n':
        *p++ = 'n';
        break;
      case '\r':
        *p++ = 'r';
        break;
      case '\t':
        *p++ = 't';
        break;
      default:
        p = put(p, "u00");
        *p++ = hex[c >> 4];
        *p++ = hex[c & 15];
    }
  }
  *p++ = '"';
  return p;
}

char* put_signed_bytes(char* p, const void* data, size_t n) noexcept {
  *p++ = '[';
  auto b = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0)
      *p++ = ',';
    std::memcpy(p, bytes_table.text[b[i]].data(), 4);
    p += bytes_table.len[b[i]];
  }
  *p++ = ']';
  return p;
}

/// The decimal text of the last number written in one place of a record
/// (its offset, its timestamp): a partition's records mostly come one
/// offset after the other, and many share their millisecond, so most
/// numbers are a copy or a carry, not a conversion (`to_chars` was 5-6 %
/// of CAF's workers' samples).
struct number_text {
  /// No number yet (no offset or timestamp is this one).
  static constexpr int64_t none = std::numeric_limits<int64_t>::min();
  int64_t last = none;
  uint8_t len = 0;
  char text[24];
};

/// The last offset and timestamp of a partition's records.
struct number_texts {
  number_text offset;
  number_text timestamp;
};

/// Writes `v` as text (kept in `t` for the next record): one more than
/// `t`'s number (with `count_up`) by incrementing its digits, the same
/// number by copying it, any other by `to_chars`. `p` has room for the
/// digits; what follows a number in a record is longer than 24 bytes, so
/// the fixed-size copy stays inside the event.
char* put_number(char* p, int64_t v, number_text& t, bool count_up) noexcept {
  bool done = v == t.last && t.last != number_text::none;
  if (!done && count_up && t.last >= 0 && t.last < v && v - t.last == 1) {
    int i = t.len - 1;
    while (i >= 0 && t.text[i] == '9')
      t.text[i--] = '0';
    if (i >= 0) {
      ++t.text[i];
      done = true;
    }
  }
  if (!done)
    t.len = static_cast<uint8_t>(std::to_chars(t.text, t.text + 24, v).ptr
                                 - t.text);
  t.last = v;
  std::memcpy(p, t.text, 24);
  return p + t.len;
}

/// Writes one record at `p` (which has room for exactly
/// `prefix.size() + record_variable_size(r)` bytes); returns the end.
char* put_record(char* p, std::string_view prefix, const record_view& r,
                 number_texts& nt) {
  p = put(p, prefix);
  p = put_number(p, r.offset, nt.offset, true);
  p = put(p, k_timestamp);
  p = put_number(p, r.timestamp, nt.timestamp, false);
  p = put(p, r.ts_type == timestamp_type::create_time ? k_create : k_append);
  if (r.key != nullptr) {
    p = put(p, k_key);
    p = base64_encode(r.key, r.key_len, p);
    *p++ = '"';
  }
  if (r.value != nullptr) {
    p = put(p, k_value);
    p = base64_encode(r.value, r.value_len, p);
    *p++ = '"';
  } else {
    p = put(p, k_null_value);
  }
  p = put(p, k_headers);
  for (size_t i = 0; i < r.header_count; ++i) {
    const auto& h = r.headers[i];
    if (i > 0)
      *p++ = ',';
    *p++ = '{';
    p = put_json_string(p, h.name);
    *p++ = ':';
    p = h.value != nullptr ? put_signed_bytes(p, h.value, h.value_len)
                           : put(p, "null");
    *p++ = '}';
  }
  *p++ = ']';
  for (int i = 0; i < 2; ++i) {
    auto* meta = i == 0 ? r.key_schema : r.value_schema;
    if (meta == nullptr)
      continue;
    p = put(p, i == 0 ? k_key_schema : k_value_schema);
    p = put_json_string(p, meta->data_format);
    p = put(p, k_schema_id);
    p = put_json_string(p, meta->schema_id);
    *p++ = '}';
  }
  *p++ = '}';
  return p;
}

} // namespace

event_writer::event_writer(std::string_view event_source_arn,
                           std::string_view bootstrap_servers) {
  if (event_source_arn.empty()) {
    prefix_ = "{\"eventSource\":\"SelfManagedKafka\"";
  } else {
    prefix_ = "{\"eventSource\":\"aws:kafka\",\"eventSourceArn\":";
    append_json_string(prefix_, event_source_arn);
  }
  prefix_ += ",\"bootstrapServers\":";
  append_json_string(prefix_, bootstrap_servers);
  prefix_ += ",\"records\":{";
}

void event_writer::append_json_string(std::string& out, std::string_view s) {
  auto old = out.size();
  out.resize(old + json_string_size(s));
  put_json_string(out.data() + old, s);
}

size_t event_writer::partition_size(std::string_view topic,
                                    int32_t partition) {
  // "topic-partition":[ ... ]
  return json_string_size(topic) + 1 + digits(partition) + 2 + 1;
}

size_t event_writer::record_fixed_size(std::string_view topic,
                                       int32_t partition) {
  return k_topic.size() + json_string_size(topic) + k_partition.size()
         + digits(partition) + k_offset.size();
}

size_t event_writer::record_variable_size(const record_view& r) {
  size_t n = digits(r.offset) + k_timestamp.size() + digits(r.timestamp)
             + (r.ts_type == timestamp_type::create_time ? k_create.size()
                                                         : k_append.size());
  if (r.key != nullptr)
    n += k_key.size() + base64_size(r.key_len) + 1;
  if (r.value != nullptr)
    n += k_value.size() + base64_size(r.value_len) + 1;
  else
    n += k_null_value.size();
  n += k_headers.size() + 2;
  for (size_t i = 0; i < r.header_count; ++i) {
    const auto& h = r.headers[i];
    n += (i > 0 ? 1 : 0) + 2 + json_string_size(h.name) + 1
         + (h.value != nullptr ? signed_bytes_size(h.value, h.value_len) : 4);
  }
  for (int i = 0; i < 2; ++i) {
    auto* meta = i == 0 ? r.key_schema : r.value_schema;
    if (meta != nullptr)
      n += (i == 0 ? k_key_schema.size() : k_value_schema.size())
           + json_string_size(meta->data_format) + k_schema_id.size()
           + json_string_size(meta->schema_id) + 1;
  }
  return n;
}

size_t event_writer::event_size(const partition_slice* slices,
                                size_t n) const {
  size_t total = frame_size() + (n > 0 ? n - 1 : 0);
  for (size_t i = 0; i < n; ++i) {
    const auto& s = slices[i];
    total += partition_size(s.topic, s.partition)
             + (s.count > 0 ? s.count - 1 : 0)
             + s.count * record_fixed_size(s.topic, s.partition);
    for (size_t j = 0; j < s.count; ++j)
      total += record_variable_size(s.records[j]);
  }
  return total;
}

void event_writer::write(std::string& out, const partition_slice* slices,
                         size_t n, size_t size_bound) const {
  write_at(out, out.size(), slices, n, size_bound);
}

void event_writer::overwrite(std::string& out, const partition_slice* slices,
                             size_t n, size_t size_bound) const {
  write_at(out, 0, slices, n, size_bound);
}

void event_writer::write_at(std::string& out, size_t at,
                            const partition_slice* slices, size_t n,
                            size_t size_bound) const {
  // One allocation of the exact size (or the caller's bound), then plain
  // stores: no per-append checks. Bytes of `out` from `at` on are
  // written over; only growth past its size is zeroed (by resize).
  auto size = size_bound > 0 ? size_bound : event_size(slices, n);
  if (out.size() < at + size)
    out.resize(at + size);
  char* p = put(out.data() + at, prefix_);
  for (size_t i = 0; i < n; ++i) {
    const auto& s = slices[i];
    if (i > 0)
      *p++ = ',';
    *p++ = '"';
    p = put(p, s.topic); // topic names are [a-zA-Z0-9._-]: nothing to escape
    *p++ = '-';
    p = put_int(p, s.partition);
    p = put(p, "\":[");
    auto prefix = record_prefix(s.topic, s.partition);
    number_texts nt;
    for (size_t j = 0; j < s.count; ++j) {
      if (j > 0)
        *p++ = ',';
      p = put_record(p, prefix, s.records[j], nt);
    }
    *p++ = ']';
  }
  p = put(p, "}}");
  auto used = static_cast<size_t>(p - out.data());
  if (used > at + size) {
    // A bound below the event: memory after the buffer was overwritten.
    std::fprintf(stderr, "kesm: event of %zu bytes over its bound of %zu\n",
                 used - at, size);
    std::abort();
  }
  out.resize(used);
}

} // namespace kesm::codecs
