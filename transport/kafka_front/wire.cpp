#include "transport/kafka_front/wire.hpp"

#include <algorithm>

namespace kesm::transport::kafka_front {

namespace {

/// A bounds-checked big-endian reader over one frame.
struct reader {
  std::string_view in;
  size_t at = 0;
  bool ok = true;

  bool need(size_t n) {
    if (!ok || in.size() - at < n)
      ok = false;
    return ok;
  }
  int64_t integer(size_t n) {
    if (!need(n))
      return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i)
      v = (v << 8) | static_cast<unsigned char>(in[at + i]);
    at += n;
    // sign-extend
    if (n < 8 && (v >> (n * 8 - 1)) & 1)
      v |= ~uint64_t{0} << (n * 8);
    return static_cast<int64_t>(v);
  }
  int16_t i16() {
    return static_cast<int16_t>(integer(2));
  }
  int32_t i32() {
    return static_cast<int32_t>(integer(4));
  }
  /// A (nullable) int16-length string; nothing for null.
  std::optional<std::string> str() {
    auto n = i16();
    if (n < 0 || !need(static_cast<size_t>(n)))
      return std::nullopt;
    std::string s(in.substr(at, static_cast<size_t>(n)));
    at += static_cast<size_t>(n);
    return s;
  }
  std::optional<std::string> bytes() {
    auto n = i32();
    if (n < 0 || !need(static_cast<size_t>(n)))
      return std::nullopt;
    std::string s(in.substr(at, static_cast<size_t>(n)));
    at += static_cast<size_t>(n);
    return s;
  }
  std::string_view rest() const {
    return in.substr(std::min(at, in.size()));
  }
};

void put(std::string& out, int64_t v, size_t n) {
  for (size_t i = n; i-- > 0;)
    out += static_cast<char>((static_cast<uint64_t>(v) >> (i * 8)) & 0xff);
}
void put_i16(std::string& out, int16_t v) {
  put(out, v, 2);
}
void put_i32(std::string& out, int32_t v) {
  put(out, v, 4);
}
void put_str(std::string& out, const std::string& s) {
  put_i16(out, static_cast<int16_t>(s.size()));
  out += s;
}
void put_nullable(std::string& out, const std::optional<std::string>& s) {
  if (s)
    put_str(out, *s);
  else
    put_i16(out, -1);
}

/// Copies one broker address, rewritten.
void address(reader& r, std::string& out, const std::string& host,
             const std::map<int32_t, int32_t>& ports) {
  auto h = r.str();
  auto port = r.i32();
  auto it = ports.find(port);
  if (it != ports.end()) {
    put_str(out, host);
    put_i32(out, it->second);
  } else {
    put_str(out, h.value_or(""));
    put_i32(out, port);
  }
}

std::string metadata(int16_t v, std::string_view body, const std::string& host,
                     const std::map<int32_t, int32_t>& ports) {
  reader r{body};
  std::string out;
  if (v >= 3)
    put_i32(out, r.i32()); // throttle_time_ms
  auto n = r.i32();
  put_i32(out, n);
  for (int32_t i = 0; i < n && r.ok; ++i) {
    put_i32(out, r.i32()); // node_id
    address(r, out, host, ports);
    if (v >= 1)
      put_nullable(out, r.str()); // rack
  }
  if (!r.ok)
    return std::string(body);
  out += r.rest();
  return out;
}

std::string coordinator(int16_t v, std::string_view body,
                        const std::string& host,
                        const std::map<int32_t, int32_t>& ports) {
  reader r{body};
  std::string out;
  if (v >= 1)
    put_i32(out, r.i32()); // throttle_time_ms
  put_i16(out, r.i16());   // error_code
  if (v >= 1)
    put_nullable(out, r.str()); // error_message
  put_i32(out, r.i32());        // node_id
  address(r, out, host, ports);
  if (!r.ok)
    return std::string(body);
  out += r.rest();
  return out;
}

struct api_range {
  int16_t key, min, max;
};

std::string versions(int16_t v, std::string_view body, bool sasl) {
  reader r{body};
  auto err = r.i16();
  if (err != 0 || v > 2)
    return std::string(body);
  auto n = r.i32();
  std::vector<api_range> list;
  for (int32_t i = 0; i < n && r.ok; ++i)
    list.push_back(api_range{r.i16(), r.i16(), r.i16()});
  if (!r.ok)
    return std::string(body);
  auto cap = [&](api key, int16_t max) {
    for (auto& a : list)
      if (a.key == static_cast<int16_t>(key))
        a.max = std::min(a.max, max);
  };
  cap(api::metadata, 8);
  cap(api::find_coordinator, 2);
  if (sasl) {
    for (auto key : {api::sasl_handshake, api::sasl_authenticate}) {
      auto k = static_cast<int16_t>(key);
      list.erase(std::remove_if(list.begin(), list.end(),
                                [k](const api_range& a) { return a.key == k; }),
                 list.end());
      list.push_back(api_range{k, 0, 1});
    }
  }
  std::string out;
  put_i16(out, err);
  put_i32(out, static_cast<int32_t>(list.size()));
  for (auto& a : list) {
    put_i16(out, a.key);
    put_i16(out, a.min);
    put_i16(out, a.max);
  }
  out += r.rest(); // throttle_time_ms (v1+)
  return out;
}

} // namespace

std::optional<request_header> read_request_header(std::string_view frame) {
  reader r{frame};
  request_header h;
  h.key = r.i16();
  h.version = r.i16();
  h.correlation_id = r.i32();
  if (!r.ok)
    return std::nullopt;
  auto n = r.i16(); // client_id (nullable)
  if (n > 0 && r.need(static_cast<size_t>(n)))
    r.at += static_cast<size_t>(n);
  h.body_at = r.ok ? r.at : frame.size();
  return h;
}

std::optional<std::string> read_handshake(std::string_view body) {
  reader r{body};
  auto s = r.str();
  return r.ok ? s : std::nullopt;
}

std::optional<std::string> read_authenticate(std::string_view body) {
  reader r{body};
  auto s = r.bytes();
  return r.ok ? s : std::nullopt;
}

std::string response_frame(int32_t correlation_id, std::string_view body) {
  std::string out;
  put_i32(out, static_cast<int32_t>(body.size() + 4));
  put_i32(out, correlation_id);
  out += body;
  return out;
}

std::string handshake_response(kafka_error err,
                               const std::vector<std::string>& mechanisms) {
  std::string out;
  put_i16(out, static_cast<int16_t>(err));
  put_i32(out, static_cast<int32_t>(mechanisms.size()));
  for (auto& m : mechanisms)
    put_str(out, m);
  return out;
}

std::string authenticate_response(int16_t version, kafka_error err,
                                  const std::string& message,
                                  const std::string& auth_bytes) {
  std::string out;
  put_i16(out, static_cast<int16_t>(err));
  put_nullable(out, message.empty() ? std::nullopt
                                    : std::optional<std::string>(message));
  put_i32(out, static_cast<int32_t>(auth_bytes.size()));
  out += auth_bytes;
  if (version >= 1)
    put(out, 0, 8); // session_lifetime_ms: no re-authentication
  return out;
}

std::string rewrite_response(api key, int16_t version, std::string_view body,
                             const std::string& host,
                             const std::map<int32_t, int32_t>& ports,
                             bool sasl) {
  switch (key) {
  case api::metadata:
    return version <= 8 ? metadata(version, body, host, ports)
                        : std::string(body);
  case api::find_coordinator:
    return version <= 2 ? coordinator(version, body, host, ports)
                        : std::string(body);
  case api::api_versions:
    return versions(version, body, sasl);
  default:
    return std::string(body);
  }
}

} // namespace kesm::transport::kafka_front
