#include "codecs/access_config.hpp"

#include <set>

#include <simdjson.h>

namespace kesm::codecs {

namespace {

error invalid(std::string msg) {
  return error{errc::invalid_parameter, std::move(msg)};
}

bool is_auth(const std::string& type) {
  return type == "SASL_SCRAM_512_AUTH" || type == "SASL_SCRAM_256_AUTH"
         || type == "BASIC_AUTH" || type == "CLIENT_CERTIFICATE_TLS_AUTH";
}

} // namespace

expected<std::map<std::string, std::string>>
read_secret(const std::string& uri, const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(text).get_object().get(obj))
    return invalid("Secret " + uri
                   + " is not a JSON object; give it Lambda's shape, e.g."
                     " {\"username\":...,\"password\":...}");
  std::map<std::string, std::string> out;
  for (auto [k, v] : obj) {
    std::string_view s;
    if (!v.get_string().get(s))
      out[std::string(k)] = std::string(s);
  }
  return out;
}

expected<std::string> need(const std::map<std::string, std::string>& secret,
                           const std::string& uri, const std::string& type,
                           const char* key) {
  auto it = secret.find(key);
  if (it == secret.end() || it->second.empty())
    return invalid("Secret " + uri + " (" + type + ") has no \"" + key
                   + "\"; add it to the secret");
  return it->second;
}


expected<std::vector<access_entry>> parse_access(std::string_view json) {
  std::vector<access_entry> out;
  if (json.empty())
    return out;
  simdjson::dom::parser parser;
  simdjson::dom::array list;
  if (parser.parse(json.data(), json.size()).get_array().get(list))
    return invalid("SourceAccessConfigurations must be a list");
  for (auto item : list) {
    std::string_view type, uri;
    if (item["Type"].get_string().get(type) || item["URI"].get_string().get(uri))
      return invalid("SourceAccessConfigurations: each item needs Type and"
                     " URI");
    out.push_back(access_entry{std::string(type), std::string(uri)});
  }
  return out;
}

expected<bool> check_access(const std::vector<access_entry>& entries,
                            bool msk) {
  std::set<std::string> seen;
  std::string auth;
  for (auto& e : entries) {
    if (!seen.insert(e.type).second)
      return invalid("SourceAccessConfigurations: " + e.type
                     + " is given twice; give each type once");
    if (e.type == "VIRTUAL_HOST")
      return invalid("SourceAccessConfigurations: VIRTUAL_HOST is for Amazon"
                     " MQ, not Kafka");
    if (msk && e.type != "SASL_SCRAM_512_AUTH"
        && e.type != "CLIENT_CERTIFICATE_TLS_AUTH" && e.type != "VPC_SUBNET"
        && e.type != "VPC_SECURITY_GROUP")
      return invalid("SourceAccessConfigurations: " + e.type
                     + " is not supported for an MSK cluster; use"
                       " SASL_SCRAM_512_AUTH or CLIENT_CERTIFICATE_TLS_AUTH"
                       " (none: IAM)");
    if (is_auth(e.type)) {
      if (!auth.empty())
        return invalid("SourceAccessConfigurations: " + auth + " and "
                       + e.type
                       + " cannot be combined; choose one authentication");
      auth = e.type;
    }
  }
  return true;
}

expected<std::map<std::string, std::string>>
security_props(const std::vector<access_entry>& entries,
               const secret_lookup& lookup) {
  std::map<std::string, std::string> props;
  bool tls_only = false;
  for (auto& e : entries) {
    if (e.type == "VPC_SUBNET" || e.type == "VPC_SECURITY_GROUP")
      continue;
    auto text = lookup(e.uri);
    if (!text)
      return text.err();
    auto secret = read_secret(e.uri, *text);
    if (!secret)
      return secret.err();
    if (e.type == "SASL_SCRAM_512_AUTH" || e.type == "SASL_SCRAM_256_AUTH"
        || e.type == "BASIC_AUTH") {
      auto user = need(*secret, e.uri, e.type, "username");
      if (!user)
        return user.err();
      auto pass = need(*secret, e.uri, e.type, "password");
      if (!pass)
        return pass.err();
      props["security.protocol"] = "SASL_SSL";
      props["sasl.mechanism"] = e.type == "SASL_SCRAM_512_AUTH"
                                  ? "SCRAM-SHA-512"
                                : e.type == "SASL_SCRAM_256_AUTH"
                                  ? "SCRAM-SHA-256"
                                  : "PLAIN";
      props["sasl.username"] = *user;
      props["sasl.password"] = *pass;
    } else if (e.type == "CLIENT_CERTIFICATE_TLS_AUTH") {
      auto cert = need(*secret, e.uri, e.type, "certificate");
      if (!cert)
        return cert.err();
      auto key = need(*secret, e.uri, e.type, "privateKey");
      if (!key)
        return key.err();
      props["security.protocol"] = "SSL";
      props["ssl.certificate.pem"] = *cert;
      props["ssl.key.pem"] = *key;
      if (auto p = secret->find("privateKeyPassword");
          p != secret->end() && !p->second.empty())
        props["ssl.key.password"] = p->second;
    } else if (e.type == "SERVER_ROOT_CA_CERTIFICATE") {
      auto cert = need(*secret, e.uri, e.type, "certificate");
      if (!cert)
        return cert.err();
      props["ssl.ca.pem"] = *cert;
      tls_only = true;
    }
  }
  if (tls_only && !props.count("security.protocol"))
    props["security.protocol"] = "SSL";
  return props;
}

} // namespace kesm::codecs
