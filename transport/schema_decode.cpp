#include "transport/schema_decode.hpp"

#include "codecs/event_writer.hpp"
#include "codecs/schema_wire.hpp"

namespace kesm::transport {

namespace {

/// Largest decoded or inflated attribute kept (Lambda's payload limit).
constexpr size_t max_decoded = 6 * 1024 * 1024;

enum class attr_result { ok, failed, waiting, unavailable };

struct attr_ref {
  const void*& data;
  size_t& len;
  const codecs::schema_meta*& meta;
  const char* name;
};

attr_result decode_attr(record_chunk& c, attr_ref a, const schema_decoding& d,
                        const std::function<void()>& wake, std::string& why) {
  if (a.data == nullptr)
    return attr_result::ok; // no key / a tombstone: nothing to check
  auto* p = static_cast<const uint8_t*>(a.data);
  bool glue = d.cfg.glue();
  auto header = glue ? codecs::read_glue_header(p, a.len)
                     : codecs::read_confluent_header(p, a.len);
  if (!header) {
    why = std::string(a.name) + ": " + header.err().message;
    return attr_result::failed;
  }
  auto found = d.client->find(header->schema_id, wake);
  if (found.st == schema_lookup::state::pending)
    return attr_result::waiting;
  if (found.st == schema_lookup::state::unavailable) {
    why = found.error;
    return attr_result::unavailable;
  }
  if (found.st == schema_lookup::state::missing) {
    why = std::string(a.name) + ": " + found.error;
    return attr_result::failed;
  }
  auto& s = *found.schema;
  const uint8_t* body = p + header->length;
  size_t body_len = a.len - header->length;
  std::string inflated;
  if (header->zlib) {
    if (auto ok = codecs::inflate_zlib(body, body_len, inflated, max_decoded); !ok) {
      why = std::string(a.name) + ": " + ok.err().message;
      return attr_result::failed;
    }
    body = reinterpret_cast<const uint8_t*>(inflated.data());
    body_len = inflated.size();
  }
  std::vector<int> indexes{0};
  if (s.protobuf && !glue) {
    size_t at = 0;
    auto idx = codecs::read_protobuf_indexes(body, body_len, at);
    if (!idx) {
      why = std::string(a.name) + ": " + idx.err().message;
      return attr_result::failed;
    }
    indexes = std::move(*idx);
    body += at;
    body_len -= at;
  }
  std::string out;
  codecs::expected<bool> ok = true;
  std::string_view text(reinterpret_cast<const char*>(body), body_len);
  if (s.avro) {
    ok = s.avro->to_json(body, body_len, out);
  } else if (s.protobuf) {
    ok = s.protobuf->to_json(indexes, body, body_len, out);
  } else if (s.json) {
    ok = s.json->validate(text);
    if (ok)
      out.assign(text);
  }
  if (!ok) {
    why = std::string(a.name) + ": schema " + s.id + ": " + ok.err().message;
    return attr_result::failed;
  }
  if (d.cfg.json_format) {
    c.decoded.push_back(std::move(out));
  } else if (!inflated.empty()) {
    c.decoded.push_back(std::move(inflated));
  } else {
    a.data = body; // SOURCE: the bytes after the prefix, in place
    a.len = body_len;
    a.meta = &s.meta;
    c.pins.push_back(found.schema);
    return attr_result::ok;
  }
  auto& kept = c.decoded.back();
  c.bytes += kept.size();
  a.data = kept.data();
  a.len = kept.size();
  a.meta = &s.meta;
  c.pins.push_back(found.schema);
  return attr_result::ok;
}

} // namespace

decode_step decode_chunk(record_chunk& c, size_t& next,
                         const schema_decoding& d, std::function<void()> wake) {
  decode_step step;
  for (; next < c.records.size(); ++next) {
    auto& r = c.records[next];
    if (r.schema_error != nullptr)
      continue;
    // Key first, then value; a key already decoded (we stopped at the
    // value last time) has its metadata set and is not decoded twice.
    const char* names[] = {"KEY", "VALUE"};
    bool wanted[] = {d.cfg.key && r.key_schema == nullptr,
                     d.cfg.value && r.value_schema == nullptr};
    for (int i = 0; i < 2; ++i) {
      if (!wanted[i])
        continue;
      attr_ref a = i == 0 ? attr_ref{r.key, r.key_len, r.key_schema, names[0]}
                          : attr_ref{r.value, r.value_len, r.value_schema,
                                     names[1]};
      std::string why;
      auto res = decode_attr(c, a, d, wake, why);
      if (res == attr_result::waiting) {
        step.st = decode_step::state::waiting;
        return step;
      }
      if (res == attr_result::unavailable) {
        step.st = decode_step::state::unavailable;
        step.error = std::move(why);
        return step;
      }
      if (res == attr_result::failed) {
        c.decoded.push_back(std::move(why));
        r.schema_error = c.decoded.back().c_str();
        ++step.failed;
        break;
      }
    }
    c.costs[next] = static_cast<uint32_t>(
      codecs::event_writer::record_variable_size(r) + 1);
  }
  return step;
}

} // namespace kesm::transport
