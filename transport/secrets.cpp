#include "transport/secrets.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <simdjson.h>

#include "codecs/access_config.hpp"
#include "codecs/event_writer.hpp"

namespace kesm::transport {

namespace {

codecs::error bad(std::string msg) {
  return codecs::error{codecs::errc::invalid_parameter, std::move(msg)};
}

bool read_all(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

/// `${NAME}` and `file:PATH` string values of a secret object, expanded.
codecs::expected<std::string> expand(const std::string& arn,
                                     const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(json).get_object().get(obj))
    return bad("Secret " + arn + " in \"secrets\" is not a JSON object");
  std::string out = "{";
  for (auto [k, v] : obj) {
    if (out.size() > 1)
      out += ',';
    codecs::event_writer::append_json_string(out, k);
    out += ':';
    std::string_view s;
    if (v.get_string().get(s)) {
      out += simdjson::minify(v);
      continue;
    }
    std::string value(s);
    if (value.size() > 3 && value.rfind("${", 0) == 0 && value.back() == '}') {
      auto name = value.substr(2, value.size() - 3);
      const char* env = std::getenv(name.c_str());
      if (env == nullptr)
        return bad("Secret " + arn + ": \"" + std::string(k)
                   + "\" names the environment variable " + name
                   + ", which is not set");
      value = env;
    } else if (value.rfind("file:", 0) == 0) {
      auto path = value.substr(5);
      if (!read_all(path, value))
        return bad("Secret " + arn + ": \"" + std::string(k)
                   + "\" names the file " + path
                   + ", which cannot be read");
      while (!value.empty() && (value.back() == '\n' || value.back() == '\r'))
        value.pop_back();
    }
    codecs::event_writer::append_json_string(out, value);
  }
  return out + "}";
}

} // namespace

codecs::expected<std::map<std::string, std::string>>
resolve_security(const codecs::mapping_config& cfg,
                 const secret_source& source,
                 const std::map<std::string, std::string>& base) {
  auto it = cfg.echoed.find("SourceAccessConfigurations");
  if (it == cfg.echoed.end())
    return std::map<std::string, std::string>{};
  auto entries = codecs::parse_access(it->second);
  if (!entries)
    return entries.err();
  if (auto ok = codecs::check_access(*entries, !cfg.event_source_arn.empty());
      !ok)
    return ok.err();
  auto props = codecs::security_props(
    *entries, [&](const std::string& arn) { return source.get(arn); });
  if (!props || props->empty())
    return props;
  auto all = base;
  for (auto& [k, v] : *props)
    all[k] = v;
  if (auto ok = check_consumer_props(all); !ok)
    return bad("The secrets of SourceAccessConfigurations were refused: "
               + ok.err().message);
  return props;
}

std::string secret_name(const std::string& arn) {
  auto pos = arn.find(":secret:");
  return pos == std::string::npos ? arn : arn.substr(pos + 8);
}

codecs::expected<std::string> config_secrets::get(const std::string& arn) const {
  if (auto it = map_.find(arn); it != map_.end())
    return expand(arn, it->second);
  auto name = secret_name(arn);
  // Secrets Manager appends "-" and 6 characters to a secret's name.
  std::string shorter = name.size() > 7 && name[name.size() - 7] == '-'
                          ? name.substr(0, name.size() - 7)
                          : name;
  if (!dir_.empty() && name.find('/') == std::string::npos
      && name.find("..") == std::string::npos) {
    std::string text;
    for (auto& n : {name, shorter})
      if (read_all(dir_ + "/" + n, text))
        return text;
  }
  if (env_) {
    for (auto& n : {name, shorter}) {
      std::string var = "KESM_SECRET_";
      for (unsigned char c : n)
        var += std::isalnum(c) ? static_cast<char>(std::toupper(c)) : '_';
      if (const char* v = std::getenv(var.c_str()))
        return std::string(v);
    }
  }
  return codecs::error{
    codecs::errc::not_found,
    "Secret " + arn + " not found; add it under \"secrets\" in the config file"
             + (dir_.empty() ? std::string{}
                             : ", as a file " + dir_ + "/" + shorter)
      + (env_ ? ", or in KESM_SECRET_<NAME>" : "")
      + (", or set \"secrets_manager\": true to read it from AWS")};
}

} // namespace kesm::transport
