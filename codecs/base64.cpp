#include "codecs/base64.hpp"

#include <cstdint>
#include <cstring>

namespace kesm::codecs {

namespace {

constexpr char alphabet[]
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int decode_char(char c) noexcept {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/// Two output characters for every 12-bit group: one lookup per 12 bits.
struct pair_table {
  char pairs[4096][2];
  pair_table() {
    for (int i = 0; i < 4096; ++i) {
      pairs[i][0] = alphabet[i >> 6];
      pairs[i][1] = alphabet[i & 63];
    }
  }
};

const pair_table table;

} // namespace

char* base64_encode(const void* data, size_t n, char* out) noexcept {
  auto in = static_cast<const uint8_t*>(data);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8)
                 | uint32_t{in[i + 2]};
    std::memcpy(out, table.pairs[v >> 12], 2);
    std::memcpy(out + 2, table.pairs[v & 0xFFF], 2);
    out += 4;
  }
  if (size_t rest = n - i; rest > 0) {
    uint32_t v = uint32_t{in[i]} << 16;
    if (rest == 2)
      v |= uint32_t{in[i + 1]} << 8;
    out[0] = alphabet[(v >> 18) & 63];
    out[1] = alphabet[(v >> 12) & 63];
    out[2] = rest == 2 ? alphabet[(v >> 6) & 63] : '=';
    out[3] = '=';
    out += 4;
  }
  return out;
}

void base64_append(std::string& out, const void* data, size_t n) {
  auto old = out.size();
  out.resize(old + base64_size(n));
  base64_encode(data, n, out.data() + old);
}

bool base64_decode(const char* in, size_t n, std::string& out) {
  if (n % 4 != 0)
    return false;
  out.clear();
  out.reserve(n / 4 * 3);
  for (size_t i = 0; i < n; i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = in[i + static_cast<size_t>(j)];
      if (c == '=' && i + 4 == n && j >= 2) {
        v[j] = 0;
        ++pad;
      } else if (pad > 0 || (v[j] = decode_char(c)) < 0) {
        return false;
      }
    }
    uint32_t x = (static_cast<uint32_t>(v[0]) << 18)
                 | (static_cast<uint32_t>(v[1]) << 12)
                 | (static_cast<uint32_t>(v[2]) << 6)
                 | static_cast<uint32_t>(v[3]);
    out.push_back(static_cast<char>((x >> 16) & 0xFF));
    if (pad < 2)
      out.push_back(static_cast<char>((x >> 8) & 0xFF));
    if (pad < 1)
      out.push_back(static_cast<char>(x & 0xFF));
  }
  return true;
}

std::string base64url(const std::string& data) {
  std::string out;
  base64_append(out, data.data(), data.size());
  for (auto& c : out)
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=')
    out.pop_back();
  return out;
}

bool base64url_decode(const std::string& in, std::string& out) {
  std::string std64 = in;
  for (auto& c : std64)
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (std64.size() % 4 != 0)
    std64 += '=';
  return base64_decode(std64.data(), std64.size(), out);
}

} // namespace kesm::codecs
