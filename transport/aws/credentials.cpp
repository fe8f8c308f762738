#include "transport/aws/credentials.hpp"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <map>
#include <optional>
#include <sstream>

#include <simdjson.h>

#include "transport/aws/fetch.hpp"
#include "transport/aws/sigv4.hpp"

namespace kesm::transport::aws {

namespace {

using clock = std::chrono::system_clock;
using headers = std::vector<std::pair<std::string, std::string>>;

codecs::error no_creds(std::string msg) {
  return codecs::error{codecs::errc::invalid_parameter, std::move(msg)};
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string home_file(const char* var, const char* rel) {
  auto v = env(var);
  if (!v.empty())
    return v;
  auto home = env("HOME");
  return home.empty() ? std::string() : home + rel;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

/// The `key = value` pairs of section `name` of an INI file.
std::map<std::string, std::string> ini_section(const std::string& path,
                                               const std::string& name) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';')
      continue;
    if (line.front() == '[' && line.back() == ']') {
      inside = trim(line.substr(1, line.size() - 2)) == name;
      continue;
    }
    auto eq = line.find('=');
    if (inside && eq != std::string::npos)
      out[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

std::string profile() {
  auto p = env("AWS_PROFILE");
  return p.empty() ? "default" : p;
}

/// The profile's settings: credentials file first, then config file.
std::map<std::string, std::string> profile_settings() {
  auto p = profile();
  auto out = ini_section(
      home_file("AWS_SHARED_CREDENTIALS_FILE", "/.aws/credentials"), p);
  auto cfg = ini_section(home_file("AWS_CONFIG_FILE", "/.aws/config"),
                         p == "default" ? p : "profile " + p);
  for (auto& [k, v] : cfg)
    out.emplace(k, v);
  return out;
}

/// `2024-01-01T00:00:00Z` (or with fractional seconds) -> time point.
clock::time_point parse_time(const std::string& s) {
  std::tm tm{};
  std::istringstream in(s);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail())
    return {};
  return clock::from_time_t(timegm(&tm));
}

/// Credentials from the JSON the ECS and EC2 endpoints answer.
codecs::expected<credentials> from_json(const std::string& body,
                                        const std::string& source) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(body).get_object().get(obj))
    return no_creds(source + " answered something that is not JSON");
  std::string_view ak, sk, token, exp;
  if (obj["AccessKeyId"].get(ak) || obj["SecretAccessKey"].get(sk))
    return no_creds(source + " answered without AccessKeyId/SecretAccessKey");
  credentials c{std::string(ak), std::string(sk), "", {}};
  if (!obj["Token"].get(token))
    c.session_token = std::string(token);
  if (!obj["Expiration"].get(exp))
    c.expiration = parse_time(std::string(exp));
  return c;
}

std::string xml_tag(const std::string& xml, const std::string& tag) {
  auto b = xml.find("<" + tag + ">");
  auto e = xml.find("</" + tag + ">");
  if (b == std::string::npos || e == std::string::npos)
    return {};
  b += tag.size() + 2;
  return xml.substr(b, e - b);
}

std::optional<codecs::expected<credentials>> from_web_identity() {
  auto token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
  auto role = env("AWS_ROLE_ARN");
  if (token_file.empty() || role.empty())
    return std::nullopt;
  std::ifstream in(token_file);
  std::string token((std::istreambuf_iterator<char>(in)), {});
  token = trim(token);
  if (token.empty())
    return codecs::expected<credentials>{no_creds("AWS_WEB_IDENTITY_TOKEN_FILE "
                                                  + token_file
                                                  + " is empty or unreadable")};
  auto session = env("AWS_ROLE_SESSION_NAME");
  if (session.empty())
    session = "kesm-" + std::to_string(std::time(nullptr));
  auto region = resolve_region();
  auto url = endpoint_for("STS", "sts", region.empty() ? "us-east-1" : region);
  auto body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn="
              + uri_encode(role, false)
              + "&RoleSessionName=" + uri_encode(session, false)
              + "&WebIdentityToken=" + uri_encode(token, false);
  auto a = fetch("POST", url,
                 {{"Content-Type", "application/x-www-form-urlencoded"}}, body,
                 5000);
  if (a.status != 200)
    return codecs::expected<credentials>{
        no_creds("STS AssumeRoleWithWebIdentity for " + role + " failed: "
                 + (a.status == 0 ? a.error
                                  : "HTTP " + std::to_string(a.status) + " "
                                        + xml_tag(a.body, "Code")))};
  credentials c{xml_tag(a.body, "AccessKeyId"),
                xml_tag(a.body, "SecretAccessKey"),
                xml_tag(a.body, "SessionToken"),
                parse_time(xml_tag(a.body, "Expiration"))};
  if (c.empty())
    return codecs::expected<credentials>{
        no_creds("STS AssumeRoleWithWebIdentity answered no credentials")};
  return codecs::expected<credentials>{c};
}

std::optional<codecs::expected<credentials>> from_container() {
  auto rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  auto full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (rel.empty() && full.empty())
    return std::nullopt;
  auto url = rel.empty() ? full : "http://169.254.170.2" + rel;
  headers h;
  auto token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  if (auto file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
      !file.empty()) {
    std::ifstream in(file);
    token.assign((std::istreambuf_iterator<char>(in)), {});
    token = trim(token);
  }
  if (!token.empty())
    h.emplace_back("Authorization", token);
  auto a = fetch("GET", url, h, "", 2000);
  if (a.status != 200)
    return codecs::expected<credentials>{no_creds(
        "the container credentials endpoint failed: "
        + (a.status == 0 ? a.error : "HTTP " + std::to_string(a.status)))};
  return from_json(a.body, "the container credentials endpoint");
}

std::string imds_endpoint() {
  auto e = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (e.empty())
    e = "http://169.254.169.254";
  while (!e.empty() && e.back() == '/')
    e.pop_back();
  return e;
}

bool imds_disabled() {
  auto v = env("AWS_EC2_METADATA_DISABLED");
  return v == "true" || v == "TRUE" || v == "True";
}

/// GET `path` from instance metadata with an IMDSv2 token.
fetch_answer imds_get(const std::string& path) {
  auto base = imds_endpoint();
  auto t = fetch("PUT", base + "/latest/api/token",
                 {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}}, "", 1000);
  if (t.status != 200) {
    fetch_answer out;
    out.error = t.status == 0
                    ? t.error
                    : "IMDSv2 token refused: HTTP " + std::to_string(t.status);
    return out;
  }
  return fetch("GET", base + path, {{"X-aws-ec2-metadata-token", t.body}}, "",
               2000);
}

codecs::expected<credentials> from_instance() {
  auto roles = imds_get("/latest/meta-data/iam/security-credentials/");
  if (roles.status != 200)
    return no_creds("instance metadata: "
                    + (roles.status == 0
                           ? roles.error
                           : "no instance role (HTTP "
                                 + std::to_string(roles.status) + ")"));
  auto role = trim(roles.body.substr(0, roles.body.find('\n')));
  auto a = imds_get("/latest/meta-data/iam/security-credentials/" + role);
  if (a.status != 200)
    return no_creds("instance metadata: credentials of role " + role
                    + " unavailable");
  return from_json(a.body, "instance metadata");
}

} // namespace

std::string arn_field(const std::string& arn, size_t index) {
  if (arn.rfind("arn:", 0) != 0)
    return {};
  size_t at = 0;
  for (size_t i = 0; i < index; ++i) {
    at = arn.find(':', at);
    if (at == std::string::npos)
      return {};
    ++at;
  }
  auto end = arn.find(':', at);
  if (end == std::string::npos)
    return {}; // the last field is the resource, never asked for here
  return arn.substr(at, end - at);
}

std::string endpoint_for(const std::string& service_id,
                         const std::string& host_prefix,
                         const std::string& region) {
  auto specific = env(("AWS_ENDPOINT_URL_" + service_id).c_str());
  if (!specific.empty())
    return specific;
  auto global = env("AWS_ENDPOINT_URL");
  if (!global.empty())
    return global;
  return "https://" + host_prefix + "." + region + ".amazonaws.com";
}

std::string resolve_region() {
  for (auto* name : {"AWS_REGION", "AWS_DEFAULT_REGION"})
    if (auto v = env(name); !v.empty())
      return v;
  auto p = profile_settings();
  if (auto it = p.find("region"); it != p.end() && !it->second.empty())
    return it->second;
  if (imds_disabled())
    return {};
  auto a = imds_get("/latest/meta-data/placement/region");
  return a.status == 200 ? trim(a.body) : std::string();
}

codecs::expected<credentials> resolve_credentials() {
  credentials c{env("AWS_ACCESS_KEY_ID"),
                env("AWS_SECRET_ACCESS_KEY"),
                env("AWS_SESSION_TOKEN"),
                {}};
  if (!c.empty())
    return c;
  auto p = profile_settings();
  c = credentials{p["aws_access_key_id"],
                  p["aws_secret_access_key"],
                  p["aws_session_token"],
                  {}};
  if (!c.empty())
    return c;
  if (auto w = from_web_identity())
    return *w;
  if (auto ecs = from_container())
    return *ecs;
  std::string tried = "no AWS credentials: not in the environment, not in"
                      " profile "
                      + profile()
                      + " of the shared files, no web identity or container"
                        " credentials";
  if (imds_disabled())
    return no_creds(tried + ", instance metadata disabled");
  auto i = from_instance();
  if (!i)
    return no_creds(tried + ", " + i.err().message);
  return i;
}

credential_provider::~credential_provider() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

codecs::expected<bool> credential_provider::start() {
  auto c = resolve_credentials();
  if (!c)
    return c.err();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    creds_ = std::move(*c);
    fetched_ = clock::now();
  }
  thread_ = std::thread([this] { run(); });
  return true;
}

codecs::expected<credentials> credential_provider::current() const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (creds_.empty())
    return no_creds(last_error_.empty() ? "no AWS credentials" : last_error_);
  if (creds_.expiration != clock::time_point{}
      && creds_.expiration <= clock::now())
    return no_creds("the AWS credentials expired and could not be refreshed: "
                    + last_error_);
  return creds_;
}

void credential_provider::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  auto retry_at = clock::time_point{};
  while (!stop_) {
    // Due 5 minutes before expiry (long-term keys: 5 minutes after the
    // last read); after a failed refresh, again in 10 s.
    auto due = creds_.expiration != clock::time_point{}
                   ? creds_.expiration - std::chrono::minutes(5)
                   : fetched_ + std::chrono::minutes(5);
    due = std::max(due, retry_at);
    auto wait = std::min<clock::duration>(
        check_, std::max<clock::duration>(due - clock::now(), {}));
    cv_.wait_for(lock, wait, [this] { return stop_; });
    if (stop_)
      return;
    if (clock::now() < due)
      continue;
    lock.unlock();
    auto c = resolve_credentials(); // blocking, off every actor
    lock.lock();
    if (c) {
      creds_ = std::move(*c);
      fetched_ = clock::now();
      last_error_.clear();
      retry_at = {};
    } else {
      last_error_ = c.err().message;
      retry_at = clock::now() + std::chrono::seconds(10);
    }
  }
}

} // namespace kesm::transport::aws
