#include "transport/aws/signer.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "codecs/base64.hpp"
#include "transport/aws/sigv4.hpp"

namespace kesm::transport::aws {

namespace {

bool unsigned_header(const std::string& name) {
  return name == "expect" || name == "user-agent" || name == "x-amzn-trace-id"
         || name == "authorization";
}

std::string scope(const std::string& date, const std::string& region,
                  const std::string& service) {
  return date + "/" + region + "/" + service + "/aws4_request";
}

} // namespace

std::string amz_date(std::time_t now) {
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[20];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

url_parts split_url(const std::string& url) {
  url_parts out;
  auto scheme_end = url.find("://");
  size_t at = 0;
  if (scheme_end != std::string::npos) {
    out.scheme = ascii_lower(url.substr(0, scheme_end));
    at = scheme_end + 3;
  }
  auto path_at = url.find_first_of("/?", at);
  out.host = url.substr(at, path_at == std::string::npos ? std::string::npos
                                                         : path_at - at);
  auto colon = out.host.rfind(':');
  if (colon != std::string::npos
      && out.host.find(']', colon) == std::string::npos) {
    auto port = out.host.substr(colon + 1);
    if ((out.scheme == "https" && port == "443")
        || (out.scheme == "http" && port == "80"))
      out.host.resize(colon);
  }
  if (path_at == std::string::npos) {
    out.path = "/";
    return out;
  }
  auto q = url.find('?', path_at);
  out.path = url.substr(path_at, q == std::string::npos ? std::string::npos
                                                        : q - path_at);
  if (out.path.empty())
    out.path = "/";
  if (q != std::string::npos)
    out.query = url.substr(q + 1);
  return out;
}

void sign(aws_request& req, const credentials& creds, const std::string& region,
          const std::string& service, std::time_t now) {
  auto date_time = amz_date(now);
  auto date = date_time.substr(0, 8);
  auto parts = split_url(req.url);
  auto drop = [&](const char* name) {
    req.headers.erase(
        std::remove_if(req.headers.begin(), req.headers.end(),
                       [&](auto& h) { return ascii_lower(h.first) == name; }),
        req.headers.end());
  };
  drop("x-amz-date");
  drop("authorization");
  drop("x-amz-security-token");
  req.headers.emplace_back("X-Amz-Date", date_time);
  if (!creds.session_token.empty())
    req.headers.emplace_back("X-Amz-Security-Token", creds.session_token);
  signable_request s;
  s.method = req.method;
  s.raw_path = parts.path;
  s.raw_query = parts.query;
  std::map<std::string, std::string> names; // sorted, unique
  bool has_host = false;
  for (auto& [k, v] : req.headers) {
    auto name = ascii_lower(k);
    if (unsigned_header(name))
      continue;
    has_host |= name == "host";
    s.headers.emplace(name, v);
    names[name];
  }
  if (!has_host) {
    s.headers.emplace("host", parts.host);
    names["host"];
  }
  std::string signed_headers;
  for (auto& [name, unused] : names)
    signed_headers += (signed_headers.empty() ? "" : ";") + name;
  s.payload_hash
      = req.payload_hash.empty() ? sha256_hex(req.body) : req.payload_hash;
  auto canonical = canonical_request(s, signed_headers);
  auto sig = signature(creds.secret_key, date_time, date, region, service,
                       canonical);
  req.headers.emplace_back(
      "Authorization", "AWS4-HMAC-SHA256 Credential=" + creds.access_key + "/"
                           + scope(date, region, service) + ", SignedHeaders="
                           + signed_headers + ", Signature=" + sig);
}

std::string presign(const std::string& url, const credentials& creds,
                    const std::string& region, const std::string& service,
                    int expires_seconds, std::time_t now) {
  auto date_time = amz_date(now);
  auto date = date_time.substr(0, 8);
  auto parts = split_url(url);
  // The URL's own parameters (decoded, re-encoded strictly), then ours.
  std::string query;
  for (auto& [k, v] : strict_query(parts.query))
    query += k + "=" + v + "&";
  auto add = [&](const char* k, const std::string& v, bool last = false) {
    query += std::string(k) + "=" + uri_encode(v, false) + (last ? "" : "&");
  };
  add("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  add("X-Amz-Credential",
      creds.access_key + "/" + scope(date, region, service));
  add("X-Amz-Date", date_time);
  add("X-Amz-Expires", std::to_string(expires_seconds));
  add("X-Amz-SignedHeaders", "host", creds.session_token.empty());
  if (!creds.session_token.empty())
    add("X-Amz-Security-Token", creds.session_token, true);
  signable_request s;
  s.method = "GET";
  s.raw_path = parts.path;
  s.raw_query = query;
  s.headers.emplace("host", parts.host);
  s.payload_hash = sha256_hex("");
  auto sig = signature(creds.secret_key, date_time, date, region, service,
                       canonical_request(s, "host"));
  return parts.scheme + "://" + parts.host + parts.path + "?" + query
         + "&X-Amz-Signature=" + sig;
}

std::string msk_iam_token(const credentials& creds, const std::string& region,
                          std::time_t now, const std::string& user_agent) {
  auto url = presign("https://kafka." + region
                         + ".amazonaws.com/?Action=kafka-cluster%3AConnect",
                     creds, region, "kafka-cluster", 900, now)
             + "&User-Agent=" + uri_encode(user_agent, false);
  return codecs::base64url(url);
}

} // namespace kesm::transport::aws
