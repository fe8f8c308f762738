#include "codecs/base64.hpp"

#include <gtest/gtest.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

using kesm::codecs::base64_append;
using kesm::codecs::base64_decode;
using kesm::codecs::base64_size;

namespace {

std::string enc(const std::string& s) {
  std::string out;
  base64_append(out, s.data(), s.size());
  return out;
}

} // namespace

// RFC 4648 section 10 test vectors.
TEST(base64, encodes_rfc4648_vectors) {
  EXPECT_EQ(enc(""), "");
  EXPECT_EQ(enc("f"), "Zg==");
  EXPECT_EQ(enc("fo"), "Zm8=");
  EXPECT_EQ(enc("foo"), "Zm9v");
  EXPECT_EQ(enc("foob"), "Zm9vYg==");
  EXPECT_EQ(enc("fooba"), "Zm9vYmE=");
  EXPECT_EQ(enc("foobar"), "Zm9vYmFy");
}

TEST(base64, encodes_the_spec_example) {
  EXPECT_EQ(enc("Hello, this is a test."), "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==");
  EXPECT_EQ(enc("key"), "a2V5");
}

TEST(base64, encodes_every_byte_value) {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all.push_back(static_cast<char>(i));
  auto e = enc(all);
  EXPECT_EQ(e.size(), base64_size(256));
  EXPECT_EQ(e.substr(0, 8), "AAECAwQF");
  EXPECT_EQ(e.substr(e.size() - 8), "/P3+/w==");
  std::string back;
  ASSERT_TRUE(base64_decode(e.data(), e.size(), back));
  EXPECT_EQ(back, all);
}

TEST(base64, round_trips_a_large_value) {
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>((i * 131) & 0xFF);
  auto e = enc(big);
  std::string back;
  ASSERT_TRUE(base64_decode(e.data(), e.size(), back));
  EXPECT_EQ(back, big);
}

TEST(base64, rejects_malformed_input) {
  std::string out;
  EXPECT_FALSE(base64_decode("abc", 3, out));
  EXPECT_FALSE(base64_decode("ab!d", 4, out));
  EXPECT_FALSE(base64_decode("a=bc", 4, out));
}

TEST(base64, fast_path_matches_the_portable_encoder_at_every_length) {
  // The SIMD path takes 24 bytes a step from 32 on and hands the rest to
  // the scalar tail: every length up to a few steps, every alignment of
  // the input, and bytes that hit all five ranges of the alphabet.
  std::string buf;
  uint32_t x = 12345;
  for (int i = 0; i < 600; ++i) {
    x = x * 1103515245u + 12345u;
    buf.push_back(static_cast<char>(x >> 16));
  }
  for (size_t offset = 0; offset < 8; ++offset)
    for (size_t n = 0; n + offset <= 300; ++n) {
      const char* in = buf.data() + offset;
      std::string fast(base64_size(n) + 8, '#');
      std::string slow(base64_size(n) + 8, '#');
      auto* fend = kesm::codecs::base64_encode(in, n, fast.data());
      auto* send = kesm::codecs::base64_encode_portable(in, n, slow.data());
      ASSERT_EQ(fend - fast.data(), static_cast<long>(base64_size(n)));
      ASSERT_EQ(send - slow.data(), static_cast<long>(base64_size(n)));
      ASSERT_EQ(fast, slow) << "length " << n << ", offset " << offset;
      std::string back;
      ASSERT_TRUE(base64_decode(fast.data(), base64_size(n), back));
      ASSERT_EQ(back, std::string(in, n));
    }
}

#if defined(__x86_64__)
namespace {

/// XINUSE (XGETBV with ECX = 1): which register states are not in their
/// initial state. Bit 2 is the upper halves of the ymm registers.
unsigned long long xinuse() {
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}

bool xinuse_readable() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0, nullptr) < 0xd)
    return false;
  __cpuid_count(0xd, 1, a, b, c, d);
  return ((a >> 2) & 1) != 0;
}

} // namespace

// The AVX2 encoder must leave the ymm registers' upper halves clean: the
// SSE code that runs after it (memcpy inlined in the event writer) pays a
// transition on every record otherwise. On this project's machine that
// made encode_event 2.7 x slower (175 against 64 us for 1000 100-byte
// records, docs/benchmarks.md "A dirty ymm state").
TEST(base64, avx2_encoder_leaves_the_upper_ymm_halves_clean) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !xinuse_readable())
    GTEST_SKIP() << "no AVX2 or no XGETBV with ECX = 1 on this CPU";
  std::string in(100, 'x');
  std::string out(base64_size(in.size()), '#');
  int dirty = 0;
  // A context switch between the call and the read may reset the state
  // (never set it): count over many calls.
  for (int i = 0; i < 100; ++i) {
    kesm::codecs::base64_encode(in.data(), in.size(), out.data());
    if (xinuse() & 4)
      ++dirty;
  }
  EXPECT_EQ(dirty, 0) << "calls that left the upper ymm halves dirty";
}
#endif
