#pragma once

#include <cstddef>
#include <string>

namespace kesm::codecs {

/// Length of the standard (padded) base64 encoding of `n` bytes.
constexpr size_t base64_size(size_t n) noexcept {
  return (n + 2) / 3 * 4;
}

/// Writes the standard base64 of `data[0..n)` to `out` (which must have
/// room for `base64_size(n)` bytes); returns the end of what it wrote.
/// Uses AVX2 (24 bytes a step) where the CPU has it, else a table lookup
/// per 12 bits; both write the same bytes.
char* base64_encode(const void* data, size_t n, char* out) noexcept;

/// `base64_encode` without SIMD: what the tests compare the fast path with.
char* base64_encode_portable(const void* data, size_t n, char* out) noexcept;

/// Appends the standard base64 of `data[0..n)` to `out`.
void base64_append(std::string& out, const void* data, size_t n);

/// Decodes standard base64 (padding required); returns false on bad input.
bool base64_decode(const char* in, size_t n, std::string& out);

/// The base64url of `data` without padding (RFC 4648 section 5), as
/// bearer tokens carry it.
std::string base64url(const std::string& data);

/// Decodes unpadded (or padded) base64url; returns false on bad input.
bool base64url_decode(const std::string& in, std::string& out);

} // namespace kesm::codecs
