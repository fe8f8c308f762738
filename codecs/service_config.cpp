#include "codecs/service_config.hpp"

#include <cstdlib>
#include <set>

#include <simdjson.h>

namespace kesm::codecs {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

error bad(std::string msg) {
  return error{errc::invalid_parameter, "config: " + std::move(msg)};
}

expected<function_config> read_function(std::string_view name, element e) {
  function_config fn;
  fn.name = std::string(name);
  object obj;
  if (e.get_object().get(obj))
    return bad("functions." + fn.name
               + " must be an object with \"url\" or \"lambda\"");
  for (auto [key, val] : obj) {
    std::string_view text;
    auto str = [&](std::string& out) -> expected<bool> {
      if (val.get_string().get(text))
        return bad("functions." + fn.name + "." + std::string(key)
                   + " must be a string");
      out = std::string(text);
      return true;
    };
    expected<bool> ok = true;
    if (key == "url")
      ok = str(fn.url);
    else if (key == "lambda")
      ok = str(fn.lambda);
    else if (key == "region")
      ok = str(fn.region);
    else if (key == "endpoint")
      ok = str(fn.endpoint);
    else if (key == "ca_file")
      ok = str(fn.ca_file);
    else if (key == "sign")
      ok = str(fn.sign);
    else if (key == "headers") {
      object h;
      if (val.get_object().get(h))
        return bad("functions." + fn.name
                   + ".headers must be an object: name -> value");
      for (auto [hk, hv] : h) {
        if (hv.get_string().get(text))
          return bad("functions." + fn.name + ".headers." + std::string(hk)
                     + " must be a string");
        fn.headers[std::string(hk)] = std::string(text);
      }
    } else if (key == "timeout_seconds") {
      int64_t t = 0;
      if (val.get_int64().get(t) || t < 1 || t > 840)
        return bad("functions." + fn.name
                   + ".timeout_seconds must be an integer from 1 to 840");
      fn.timeout_seconds = static_cast<int>(t);
    } else {
      return bad("unknown key functions." + fn.name + "." + std::string(key)
                 + " (known: url, lambda, region, endpoint, headers, ca_file,"
                   " sign, timeout_seconds)");
    }
    if (!ok)
      return ok.err();
  }
  if (fn.url.empty() == fn.lambda.empty())
    return bad("functions." + fn.name
               + " needs exactly one of \"url\" (an HTTP endpoint) and"
                 " \"lambda\" (a Lambda function name or ARN)");
  if (!fn.url.empty() && fn.url.rfind("http://", 0) != 0
      && fn.url.rfind("https://", 0) != 0)
    return bad("functions." + fn.name
               + ".url must start with http:// or https://");
  if (!fn.lambda.empty() && (!fn.headers.empty() || !fn.sign.empty()))
    return bad("functions." + fn.name
               + ": headers and sign are for url functions; a lambda function"
                 " is always signed");
  return fn;
}

} // namespace

namespace {

/// `*` matches any run of characters (none included); case-insensitive.
bool glob_match(std::string_view pat, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  auto lower = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  while (t < text.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pat.size() && lower(pat[p]) == lower(text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*')
    ++p;
  return p == pat.size();
}

} // namespace

expected<bool> check_allowed_clusters(const mapping_config& cfg,
                                      const std::vector<std::string>& allowed) {
  if (allowed.empty())
    return true;
  for (auto& server : cfg.bootstrap_servers) {
    std::string_view hp = server;
    auto host = hp.substr(0, hp.rfind(':'));
    bool ok = false;
    for (auto& pat : allowed) {
      // A pattern with a port matches host:port, else the host alone.
      bool with_port = pat.find(':') != std::string::npos;
      if (glob_match(pat, with_port ? hp : host)) {
        ok = true;
        break;
      }
    }
    if (!ok)
      return error{errc::invalid_parameter,
                   "Bootstrap server " + server
                     + " is not in this kesm's allowed_clusters; ask its"
                       " operator to add it to the config file"};
  }
  return true;
}

expected<service_config> parse_service_config(std::string_view json,
                                              int64_t now_ms) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(json.data(), json.size()).get(root))
    return bad("not valid JSON");
  object obj;
  if (root.get_object().get(obj))
    return bad("the top level must be an object with \"functions\","
               " \"clusters\" and \"mappings\"");
  service_config cfg;
  simdjson::dom::array mappings;
  bool has_mappings = false;
  for (auto [key, val] : obj) {
    if (key == "functions") {
      object fns;
      if (val.get_object().get(fns))
        return bad("\"functions\" must be an object: name -> {\"url\": ...}");
      for (auto [name, fn] : fns) {
        auto f = read_function(name, fn);
        if (!f)
          return f.err();
        cfg.functions.emplace(f->name, *f);
      }
    } else if (key == "clusters") {
      object cl;
      if (val.get_object().get(cl))
        return bad("\"clusters\" must be an object: ARN -> [\"host:port\"]");
      for (auto [arn, list] : cl) {
        simdjson::dom::array servers;
        if (list.get_array().get(servers))
          return bad("clusters." + std::string(arn)
                     + " must be a list of \"host:port\"");
        auto& out = cfg.clusters[std::string(arn)];
        for (auto s : servers) {
          std::string_view hp;
          if (s.get_string().get(hp))
            return bad("clusters." + std::string(arn)
                       + " must be a list of \"host:port\"");
          out.emplace_back(hp);
        }
      }
    } else if (key == "kafka") {
      object props;
      if (val.get_object().get(props))
        return bad("\"kafka\" must be an object of librdkafka properties");
      for (auto [name, v] : props) {
        std::string_view text;
        if (!v.get_string().get(text))
          cfg.kafka[std::string(name)] = std::string(text);
        else if (v.is_int64() || v.is_bool())
          cfg.kafka[std::string(name)] = simdjson::minify(v);
        else
          return bad("kafka." + std::string(name)
                     + " must be a string, integer or boolean");
      }
    } else if (key == "allowed_clusters") {
      simdjson::dom::array list;
      if (val.get_array().get(list))
        return bad("\"allowed_clusters\" must be a list of host patterns,"
                   " e.g. [\"*.kafka.internal\", \"10.0.0.5:9092\"]");
      for (auto item : list) {
        std::string_view pat;
        if (item.get_string().get(pat) || pat.empty())
          return bad("\"allowed_clusters\" must be a list of non-empty"
                     " strings");
        cfg.allowed_clusters.emplace_back(pat);
      }
    } else if (key == "api_access_keys") {
      object keys;
      if (val.get_object().get(keys))
        return bad("\"api_access_keys\" must be an object: access key id ->"
                   " secret key (or \"${ENV_VAR}\")");
      for (auto [id, secret] : keys) {
        std::string_view v;
        if (secret.get_string().get(v) || v.empty())
          return bad("api_access_keys." + std::string(id)
                     + " must be a non-empty string");
        std::string value(v);
        if (value.size() > 3 && value.rfind("${", 0) == 0
            && value.back() == '}') {
          auto name = value.substr(2, value.size() - 3);
          const char* env = std::getenv(name.c_str());
          if (env == nullptr || *env == '\0')
            return bad("api_access_keys." + std::string(id)
                       + ": environment variable " + name + " is not set");
          value = env;
        }
        cfg.api_access_keys[std::string(id)] = value;
      }
    } else if (key == "secrets") {
      object map;
      if (val.get_object().get(map))
        return bad("\"secrets\" must be an object: secret ARN -> {...}"
                   " (Lambda's secret shape)");
      for (auto [arn, secret] : map) {
        object fields;
        if (secret.get_object().get(fields))
          return bad("secrets." + std::string(arn)
                     + " must be an object, e.g. {\"username\":...,"
                       "\"password\":\"${KAFKA_PASSWORD}\"}");
        cfg.secrets[std::string(arn)] = simdjson::minify(secret);
      }
    } else if (key == "secrets_dir") {
      std::string_view dir;
      if (val.get_string().get(dir) || dir.empty())
        return bad("\"secrets_dir\" must be a directory path");
      cfg.secrets_dir = std::string(dir);
    } else if (key == "secrets_env") {
      if (val.get_bool().get(cfg.secrets_env))
        return bad("\"secrets_env\" must be true or false");
    } else if (key == "secrets_manager") {
      if (val.get_bool().get(cfg.secrets_manager))
        return bad("\"secrets_manager\" must be true or false");
    } else if (key == "msk_iam") {
      if (val.get_bool().get(cfg.msk_iam))
        return bad("\"msk_iam\" must be true or false");
    } else if (key == "msk_discovery") {
      if (val.get_bool().get(cfg.msk_discovery))
        return bad("\"msk_discovery\" must be true or false");
    } else if (key == "mappings") {
      if (val.get_array().get(mappings))
        return bad("\"mappings\" must be a list of CreateEventSourceMapping"
                   " documents");
      has_mappings = true;
    } else {
      return bad("unknown top-level key \"" + std::string(key)
                 + "\" (known: functions, clusters, mappings, kafka, allowed_clusters,"
                 " api_access_keys, secrets, secrets_dir, secrets_env,"
                 " secrets_manager, msk_iam, msk_discovery)");
    }
  }
  if (!has_mappings)
    return cfg;
  std::set<std::string> groups;
  size_t index = 0;
  for (auto m : mappings) {
    auto where = "mappings[" + std::to_string(index++) + "]: ";
    auto text = simdjson::minify(m);
    auto mc = parse_mapping(text, cfg.clusters, "", now_ms);
    if (!mc)
      return error{mc.err().code, "config: " + where + mc.err().message};
    // Stable across restarts and edits of other fields: the UUID names the
    // default consumer group, whose commits must survive a restart. An
    // explicit ConsumerGroupId is part of the identity (two mappings of
    // one topic and function in two groups are two mappings).
    bool default_group = mc->consumer_group_id == mc->uuid;
    auto uuid = name_uuid("config:" + mc->function_name + ":" + mc->topic
                          + ":" + mc->event_source_arn + ":"
                          + mc->bootstrap_string()
                          + (default_group ? "" : ":group:"
                                                    + mc->consumer_group_id));
    if (default_group)
      mc->consumer_group_id = uuid;
    mc->uuid = uuid;
    if (auto ok = check_allowed_clusters(*mc, cfg.allowed_clusters); !ok)
      return error{ok.err().code, "config: " + where + ok.err().message};
    if (!cfg.functions.count(mc->function_name))
      return error{errc::not_found,
                   "config: " + where + "Function not found: "
                     + mc->function_name + "; declare it under \"functions\""};
    if (!groups.insert(mc->consumer_group_id).second)
      return bad(where + "consumer group id " + mc->consumer_group_id
                 + " is already used by another mapping");
    cfg.mappings.push_back(std::move(*mc));
  }
  return cfg;
}

} // namespace kesm::codecs
