#include "transport/aws/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

namespace kesm::transport::aws {

namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  return out;
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
       &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

/// Trims and collapses runs of spaces, as SigV4 wants header values.
std::string squash(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space)
      out += ' ';
    space = false;
    out += c;
  }
  return out;
}

} // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return hex(md, sizeof(md));
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'
        || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string uri_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto val = [](char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && val(s[i + 1]) >= 0
        && val(s[i + 2]) >= 0) {
      out += static_cast<char>(val(s[i + 1]) * 16 + val(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string ascii_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::vector<std::pair<std::string, std::string>>
strict_query(std::string_view raw) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!raw.empty()) {
    auto amp = raw.find('&');
    auto pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{}
                                        : raw.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto k = pair.substr(0, eq);
    auto v = eq == std::string_view::npos ? std::string_view{}
                                          : pair.substr(eq + 1);
    params.emplace_back(uri_encode(uri_decode(k), false),
                        uri_encode(uri_decode(v), false));
  }
  return params;
}

std::string canonical_request(const signable_request& req,
                              const std::string& signed_headers) {
  std::string out = req.method + '\n';
  out += uri_encode(req.raw_path.empty() ? "/" : req.raw_path, true);
  out += '\n';
  // Query: decoded, encoded strictly, sorted by name then value.
  auto params = strict_query(req.raw_query);
  std::sort(params.begin(), params.end());
  for (size_t i = 0; i < params.size(); ++i)
    out += (i ? "&" : "") + params[i].first + "=" + params[i].second;
  out += '\n';
  // Headers: the signed ones, by lower-case name, values squashed.
  std::map<std::string, std::string> by_name;
  for (auto& [k, v] : req.headers) {
    auto& slot = by_name[ascii_lower(k)];
    slot += (slot.empty() ? "" : ",") + squash(v);
  }
  std::string_view names = signed_headers;
  while (!names.empty()) {
    auto semi = names.find(';');
    std::string name(names.substr(0, semi));
    names = semi == std::string_view::npos ? std::string_view{}
                                           : names.substr(semi + 1);
    auto it = by_name.find(name);
    out += name + ':' + (it == by_name.end() ? "" : it->second) + '\n';
  }
  out += '\n' + signed_headers + '\n' + req.payload_hash;
  return out;
}

std::string signature(const std::string& secret, const std::string& amz_date,
                      const std::string& date, const std::string& region,
                      const std::string& service,
                      const std::string& canonical) {
  auto scope = date + "/" + region + "/" + service + "/aws4_request";
  auto to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n"
                 + sha256_hex(canonical);
  auto key = hmac(hmac(hmac(hmac("AWS4" + secret, date), region), service),
                  "aws4_request");
  auto sig = hmac(key, to_sign);
  return hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

codecs::expected<authorization> parse_authorization(std::string_view h) {
  auto bad = [](std::string why) {
    return codecs::error{codecs::errc::invalid_parameter,
                         "Authorization header " + why};
  };
  constexpr std::string_view algo = "AWS4-HMAC-SHA256 ";
  if (h.substr(0, algo.size()) != algo)
    return bad("is not AWS4-HMAC-SHA256");
  h.remove_prefix(algo.size());
  authorization a;
  std::string credential;
  while (!h.empty()) {
    auto comma = h.find(',');
    auto part = h.substr(0, comma);
    h = comma == std::string_view::npos ? std::string_view{}
                                        : h.substr(comma + 1);
    while (!part.empty() && part.front() == ' ')
      part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq == std::string_view::npos)
      return bad("has a part without '='");
    auto k = part.substr(0, eq);
    std::string v(part.substr(eq + 1));
    if (k == "Credential")
      credential = v;
    else if (k == "SignedHeaders")
      a.signed_headers = v;
    else if (k == "Signature")
      a.signature = v;
  }
  // AKID/date/region/service/aws4_request
  std::vector<std::string> scope;
  size_t start = 0;
  for (size_t i = 0; i <= credential.size(); ++i)
    if (i == credential.size() || credential[i] == '/') {
      scope.push_back(credential.substr(start, i - start));
      start = i + 1;
    }
  if (scope.size() != 5 || scope[4] != "aws4_request" || scope[0].empty())
    return bad("has a malformed Credential");
  if (a.signed_headers.empty() || a.signature.empty())
    return bad("lacks SignedHeaders or Signature");
  a.access_key = scope[0];
  a.date = scope[1];
  a.region = scope[2];
  a.service = scope[3];
  return a;
}

int64_t parse_amz_date(std::string_view v) {
  if (v.size() != 16 || v[8] != 'T' || v[15] != 'Z')
    return -1;
  std::tm tm{};
  auto num = [&](size_t pos, size_t len) {
    int n = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (v[i] < '0' || v[i] > '9')
        return -1;
      n = n * 10 + (v[i] - '0');
    }
    return n;
  };
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(9, 2);
  tm.tm_min = num(11, 2);
  tm.tm_sec = num(13, 2);
  if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0
      || tm.tm_min < 0 || tm.tm_sec < 0)
    return -1;
  return static_cast<int64_t>(timegm(&tm));
}

} // namespace kesm::transport::aws
