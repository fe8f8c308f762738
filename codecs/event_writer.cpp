#include "codecs/event_writer.hpp"

#include <array>
#include <charconv>
#include <cstdint>

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

size_t digits(int64_t v) {
  char buf[24];
  return static_cast<size_t>(std::to_chars(buf, buf + sizeof(buf), v).ptr
                             - buf);
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

void append_signed_bytes(std::string& out, const void* data, size_t n) {
  out.push_back('[');
  auto p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0)
      out.push_back(',');
    out.append(bytes_table.text[p[i]].data(), bytes_table.len[p[i]]);
  }
  out.push_back(']');
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

void append_record(std::string& out, std::string_view topic,
                   int32_t partition, const record_view& r) {
  out.append(k_topic);
  event_writer::append_json_string(out, topic);
  out.append(k_partition);
  append_int(out, partition);
  out.append(k_offset);
  append_int(out, r.offset);
  out.append(k_timestamp);
  append_int(out, r.timestamp);
  out.append(r.ts_type == timestamp_type::create_time ? k_create : k_append);
  if (r.key != nullptr) {
    out.append(k_key);
    base64_append(out, r.key, r.key_len);
    out.push_back('"');
  }
  if (r.value != nullptr) {
    out.append(k_value);
    base64_append(out, r.value, r.value_len);
    out.push_back('"');
  } else {
    out.append(k_null_value);
  }
  out.append(k_headers);
  for (size_t i = 0; i < r.header_count; ++i) {
    const auto& h = r.headers[i];
    if (i > 0)
      out.push_back(',');
    out.push_back('{');
    event_writer::append_json_string(out, h.name);
    out.push_back(':');
    if (h.value != nullptr)
      append_signed_bytes(out, h.value, h.value_len);
    else
      out.append("null");
    out.push_back('}');
  }
  out.append("]}");
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
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20) {
          out.append("\\u00");
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

size_t event_writer::partition_size(std::string_view topic,
                                    int32_t partition) {
  // "topic-partition":[ ... ]
  return json_string_size(topic) + 1 + digits(partition) + 2 + 1;
}

size_t event_writer::record_size(std::string_view topic, int32_t partition,
                                 const record_view& r) {
  size_t n = k_topic.size() + json_string_size(topic) + k_partition.size()
             + digits(partition) + k_offset.size() + digits(r.offset)
             + k_timestamp.size() + digits(r.timestamp)
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
  return n;
}

size_t event_writer::event_size(const partition_slice* slices,
                                size_t n) const {
  size_t total = frame_size() + (n > 0 ? n - 1 : 0);
  for (size_t i = 0; i < n; ++i) {
    const auto& s = slices[i];
    total += partition_size(s.topic, s.partition)
             + (s.count > 0 ? s.count - 1 : 0);
    for (size_t j = 0; j < s.count; ++j)
      total += record_size(s.topic, s.partition, s.records[j]);
  }
  return total;
}

void event_writer::write(std::string& out, const partition_slice* slices,
                         size_t n) const {
  out.reserve(out.size() + event_size(slices, n));
  out.append(prefix_);
  for (size_t i = 0; i < n; ++i) {
    const auto& s = slices[i];
    if (i > 0)
      out.push_back(',');
    out.push_back('"');
    out.append(s.topic); // topic names are [a-zA-Z0-9._-]: nothing to escape
    out.push_back('-');
    append_int(out, s.partition);
    out.append("\":[");
    for (size_t j = 0; j < s.count; ++j) {
      if (j > 0)
        out.push_back(',');
      append_record(out, s.topic, s.partition, s.records[j]);
    }
    out.push_back(']');
  }
  out.append("}}");
}

} // namespace kesm::codecs
