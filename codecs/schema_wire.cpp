#include "codecs/schema_wire.hpp"

#include <cstdio>

#include <zlib.h>

namespace kesm::codecs {

namespace {

error wire_error(std::string why) {
  return error{errc::invalid_parameter, std::move(why)};
}

bool zigzag_varint(const uint8_t* p, size_t n, size_t& at, int64_t& v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (at >= n)
      return false;
    uint8_t b = p[at++];
    x |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      v = static_cast<int64_t>((x >> 1) ^ (~(x & 1) + 1));
      return true;
    }
  }
  return false;
}

} // namespace

expected<wire_header> read_confluent_header(const uint8_t* p, size_t n) {
  if (n < 5)
    return wire_error("no schema registry header: " + std::to_string(n)
                      + " bytes, fewer than the 5 of magic byte and id");
  if (p[0] != 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", p[0]);
    return wire_error(std::string("no schema registry header: magic byte ")
                      + buf + ", not 0x00");
  }
  uint32_t id = (uint32_t{p[1]} << 24) | (uint32_t{p[2]} << 16)
                | (uint32_t{p[3]} << 8) | uint32_t{p[4]};
  wire_header h;
  h.schema_id = std::to_string(id);
  h.length = 5;
  return h;
}

expected<std::vector<int>> read_protobuf_indexes(const uint8_t* p, size_t n,
                                                 size_t& at) {
  int64_t count = 0;
  if (!zigzag_varint(p, n, at, count))
    return wire_error("Protobuf message indexes cut short");
  if (count == 0)
    return std::vector<int>{0};
  if (count < 0 || count > 64)
    return wire_error("Protobuf message index count " + std::to_string(count)
                      + " out of range");
  std::vector<int> out;
  for (int64_t i = 0; i < count; ++i) {
    int64_t v = 0;
    if (!zigzag_varint(p, n, at, v))
      return wire_error("Protobuf message indexes cut short");
    if (v < 0 || v > 100000)
      return wire_error("Protobuf message index " + std::to_string(v)
                        + " out of range");
    out.push_back(static_cast<int>(v));
  }
  return out;
}

expected<wire_header> read_glue_header(const uint8_t* p, size_t n) {
  if (n < 18)
    return wire_error("no Glue schema registry header: " + std::to_string(n)
                      + " bytes, fewer than 18");
  if (p[0] != 3)
    return wire_error("no Glue schema registry header: version byte "
                      + std::to_string(p[0]) + ", not 3");
  if (p[1] != 0 && p[1] != 5)
    return wire_error("Glue compression byte " + std::to_string(p[1])
                      + " is neither 0 (none) nor 5 (zlib)");
  static const char* hex = "0123456789abcdef";
  wire_header h;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      h.schema_id += '-';
    h.schema_id += hex[p[2 + i] >> 4];
    h.schema_id += hex[p[2 + i] & 15];
  }
  h.length = 18;
  h.zlib = p[1] == 5;
  return h;
}

expected<bool> inflate_zlib(const uint8_t* p, size_t n, std::string& out,
                            size_t max_out) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK)
    return wire_error("zlib: cannot start");
  zs.next_in = const_cast<Bytef*>(p);
  zs.avail_in = static_cast<uInt>(n);
  char buf[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return wire_error("zlib: the data does not inflate");
    }
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > max_out) {
      inflateEnd(&zs);
      return wire_error("zlib: inflates to more than " + std::to_string(max_out)
                        + " bytes");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return wire_error("zlib: the data is cut short");
    }
  }
  inflateEnd(&zs);
  return true;
}

} // namespace kesm::codecs
