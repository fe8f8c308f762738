#include "codecs/base64.hpp"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

/// The portable encoder: one table lookup per 12 bits.
char* encode_scalar(const uint8_t* in, size_t n, char* out) noexcept {
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

#if defined(__x86_64__)

/// 24 input bytes (at byte 4 of each 16-byte lane's 12-byte window, see
/// the callers) -> 32 six-bit values, one a byte. Wojciech Mula's and
/// Daniel Lemire's method ("Faster Base64 Encoding and Decoding Using
/// AVX2 Instructions", ACM TOW 2018), as aklomp/base64 writes it.
__attribute__((target("avx2"))) inline __m256i
avx2_split(__m256i in) noexcept {
  in = _mm256_shuffle_epi8(
    in, _mm256_set_epi8(10, 11, 9, 10, 7, 8, 6, 7, 4, 5, 3, 4, 1, 2, 0, 1,
                        14, 15, 13, 14, 11, 12, 10, 11, 8, 9, 7, 8, 5, 6, 4,
                        5));
  __m256i t0 = _mm256_and_si256(in, _mm256_set1_epi32(0x0FC0FC00));
  __m256i t1 = _mm256_mulhi_epu16(t0, _mm256_set1_epi32(0x04000040));
  __m256i t2 = _mm256_and_si256(in, _mm256_set1_epi32(0x003F03F0));
  __m256i t3 = _mm256_mullo_epi16(t2, _mm256_set1_epi32(0x01000010));
  return _mm256_or_si256(t1, t3);
}

/// Six-bit values -> the base64 alphabet: each value gets the offset of
/// its range (A-Z +65, a-z +71, 0-9 -4, '+' -19, '/' -16).
__attribute__((target("avx2"))) inline __m256i
avx2_translate(__m256i in) noexcept {
  const __m256i lut = _mm256_setr_epi8(
    65, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0, 65, 71,
    -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0);
  __m256i idx = _mm256_subs_epu8(in, _mm256_set1_epi8(51));
  __m256i above25 = _mm256_cmpgt_epi8(in, _mm256_set1_epi8(25));
  idx = _mm256_sub_epi8(idx, above25);
  return _mm256_add_epi8(in, _mm256_shuffle_epi8(lut, idx));
}

/// 24 bytes in, 32 characters out per step; the scalar encoder does the
/// tail. Every 32-byte load stays inside `in[0..n)`.
__attribute__((target("avx2"))) char*
encode_avx2(const uint8_t* in, size_t n, char* out) noexcept {
  size_t i = 0;
  if (n >= 32) {
    // The first load starts at the input: move its words up by one so
    // the bytes sit where the later loads (4 bytes early) put them.
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in));
    v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 0, 1, 2, 3, 4,
                                                         5, 6));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                        avx2_translate(avx2_split(v)));
    i = 24;
    out += 32;
    for (; i + 28 <= n; i += 24, out += 32) {
      v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i - 4));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                          avx2_translate(avx2_split(v)));
    }
  }
  // GCC 12 leaves the upper halves of the ymm registers dirty across this
  // tail call; the SSE code after it (inlined memcpy) then pays the
  // AVX-SSE transition on every record (2.7 x the encode time on an Intel
  // Xeon, docs/benchmarks.md "A dirty ymm state").
  _mm256_zeroupper();
  return encode_scalar(in + i, n - i, out);
}

#endif

using encoder = char* (*)(const uint8_t*, size_t, char*) noexcept;

encoder pick_encoder() noexcept {
#if defined(__x86_64__)
  __builtin_cpu_init(); // may run before libgcc's own constructor
  if (__builtin_cpu_supports("avx2"))
    return encode_avx2;
#endif
  return encode_scalar;
}

} // namespace

char* base64_encode(const void* data, size_t n, char* out) noexcept {
  // Chosen on first use, not at static initialisation: other translation
  // units' initialisers may encode.
  static const encoder chosen = pick_encoder();
  return chosen(static_cast<const uint8_t*>(data), n, out);
}

char* base64_encode_portable(const void* data, size_t n, char* out) noexcept {
  return encode_scalar(static_cast<const uint8_t*>(data), n, out);
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
