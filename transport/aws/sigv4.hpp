#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/expected.hpp"

namespace kesm::transport::aws {

/// AWS Signature Version 4 (header form), the primitives both directions
/// need: kesm verifies the AWS CLI's signatures on its control-plane API
/// (`--api-auth sigv4`) and will sign its own calls to AWS with the same
/// code. Pure functions of their inputs; thread-safe.

/// Lower-case hex of SHA-256(`data`).
std::string sha256_hex(std::string_view data);

/// RFC 3986 percent-encoding: everything but `A-Za-z0-9-_.~` (and `/`
/// when `keep_slash`) becomes `%XX` (upper-case hex).
std::string uri_encode(std::string_view s, bool keep_slash);

/// Percent-decoding (`+` is left as it is).
std::string uri_decode(std::string_view s);

/// `s` with ASCII letters lower-cased (header names).
std::string ascii_lower(std::string s);

/// The `name=value` pairs of a raw query, in order, each decoded and
/// encoded again strictly (uri_encode).
std::vector<std::pair<std::string, std::string>>
strict_query(std::string_view raw);

/// One HTTP request as SigV4 sees it.
struct signable_request {
  std::string method;
  /// The path as sent on the wire (percent-encoded once), no query.
  std::string raw_path;
  /// The query as sent on the wire, without `?`; may be empty.
  std::string raw_query;
  /// Header name (any case) -> value; repeated names joined with `,`.
  std::multimap<std::string, std::string> headers;
  /// Hex SHA-256 of the body.
  std::string payload_hash;
};

/// The canonical request (AWS's "Create a canonical request" for every
/// service but S3: the path is encoded a second time). `signed_headers`
/// are lower-case names, `;`-separated, sorted.
std::string canonical_request(const signable_request& req,
                              const std::string& signed_headers);

/// Hex signature of `canonical` for the scope `date/region/service`
/// (`date` is YYYYMMDD, `amz_date` the X-Amz-Date value).
std::string signature(const std::string& secret, const std::string& amz_date,
                      const std::string& date, const std::string& region,
                      const std::string& service, const std::string& canonical);

/// The fields of an `Authorization: AWS4-HMAC-SHA256 ...` header.
struct authorization {
  std::string access_key;
  std::string date;
  std::string region;
  std::string service;
  std::string signed_headers;
  std::string signature;
};

/// Parses an Authorization header; the error says what is malformed.
codecs::expected<authorization> parse_authorization(std::string_view header);

/// Seconds since the epoch of an X-Amz-Date (`YYYYMMDDTHHMMSSZ`); -1 when
/// malformed.
int64_t parse_amz_date(std::string_view v);

} // namespace kesm::transport::aws
