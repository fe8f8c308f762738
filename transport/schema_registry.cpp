#include "transport/schema_registry.hpp"

#include <ctime>

#include <simdjson.h>

#include "codecs/access_config.hpp"
#include "codecs/base64.hpp"
#include "codecs/event_writer.hpp"
#include "transport/aws/credentials.hpp"
#include "transport/aws/sigv4.hpp"
#include "transport/aws/signer.hpp"
#include "transport/secrets.hpp"

namespace kesm::transport {

namespace {

using clock = std::chrono::steady_clock;
using state = schema_lookup::state;

constexpr long fetch_timeout_ms = 10000;
constexpr int max_reference_depth = 16;

schema_lookup outcome(state st, std::string error) {
  schema_lookup out;
  out.st = st;
  out.error = std::move(error);
  return out;
}

/// A schema's text and type with its references' texts, dependencies
/// first: (name, text) pairs.
struct fetched {
  std::string type = "AVRO";
  std::string text;
  std::vector<std::pair<std::string, std::string>> references;
};

std::string sv(simdjson::dom::element e, const char* key) {
  std::string_view v;
  return e[key].get_string().get(v) ? std::string{} : std::string(v);
}

class confluent {
public:
  explicit confluent(const registry_endpoint& ep) : ep_(ep) {
    base_ = ep.uri;
    while (!base_.empty() && base_.back() == '/')
      base_.pop_back();
    headers_.emplace_back("Accept", "application/vnd.schemaregistry.v1+json");
    if (!ep.basic_user.empty() || !ep.basic_password.empty()) {
      std::string pair = ep.basic_user + ":" + ep.basic_password;
      std::string b64(codecs::base64_size(pair.size()), '\0');
      codecs::base64_encode(pair.data(), pair.size(), b64.data());
      headers_.emplace_back("Authorization", "Basic " + b64);
    }
  }

  /// `what` for messages: "schema id 7".
  schema_lookup get(const std::string& path, const std::string& what,
                    fetched& out, int depth) {
    if (depth > max_reference_depth)
      return outcome(state::missing, what + ": references nested deeper than "
                                       + std::to_string(max_reference_depth));
    auto a = aws::fetch("GET", base_ + path, headers_, "", fetch_timeout_ms,
                        tls());
    if (a.status == 0)
      return outcome(state::unavailable,
                     "schema registry " + base_ + " unreachable: " + a.error);
    if (a.status == 404)
      return outcome(state::missing, what + " is not in the schema registry "
                                       + base_);
    if (a.status == 401 || a.status == 403)
      return outcome(state::unavailable,
                     "schema registry " + base_ + " refused kesm (HTTP "
                       + std::to_string(a.status)
                       + "): check the BASIC_AUTH or client certificate secret");
    if (a.status != 200)
      return outcome(state::unavailable, "schema registry " + base_
                                           + " answered HTTP "
                                           + std::to_string(a.status));
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(a.body).get(doc) || sv(doc, "schema").empty())
      return outcome(state::unavailable, "schema registry " + base_
                                           + " answered without a schema");
    fetched self;
    self.text = sv(doc, "schema");
    auto type = sv(doc, "schemaType");
    if (!type.empty())
      self.type = type;
    simdjson::dom::array refs;
    std::vector<std::tuple<std::string, std::string, int64_t>> wanted;
    if (!doc["references"].get_array().get(refs))
      for (auto r : refs) {
        int64_t version = 0;
        if (r["version"].get_int64().get(version))
          version = -1;
        wanted.emplace_back(sv(r, "name"), sv(r, "subject"), version);
      }
    for (auto& [name, subject, version] : wanted) {
      fetched ref;
      auto ver = version < 0 ? std::string("latest") : std::to_string(version);
      auto r = get("/subjects/" + aws::uri_encode(subject, false) + "/versions/"
                     + ver,
                   what + "'s reference " + subject + " version " + ver, ref,
                   depth + 1);
      if (r.st != state::ready)
        return r;
      for (auto& dep : ref.references)
        out.references.push_back(std::move(dep));
      out.references.emplace_back(name, std::move(ref.text));
    }
    out.type = self.type;
    out.text = std::move(self.text);
    return outcome(state::ready, "");
  }

private:
  const aws::fetch_tls* tls() const {
    auto& t = ep_.tls;
    return t.ca_pem.empty() && t.cert_pem.empty() ? nullptr : &t;
  }

  const registry_endpoint& ep_;
  std::string base_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

schema_lookup glue_get(const registry_endpoint& ep, const std::string& id,
                       fetched& out) {
  if (!ep.credentials)
    return outcome(state::unavailable, "Glue schema registry: no AWS credentials");
  auto creds = ep.credentials->current();
  if (!creds)
    return outcome(state::unavailable,
                   "Glue schema registry: " + creds.err().message);
  aws::aws_request req;
  req.method = "POST";
  req.url = ep.glue_endpoint + "/";
  req.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "AWSGlue.GetSchemaVersion"}};
  req.body = "{\"SchemaVersionId\":";
  codecs::event_writer::append_json_string(req.body, id);
  req.body += '}';
  aws::sign(req, *creds, ep.glue_region, "glue", std::time(nullptr));
  auto a = aws::fetch(req.method, req.url, req.headers, req.body,
                      fetch_timeout_ms);
  if (a.status == 0)
    return outcome(state::unavailable, "Glue schema registry unreachable: " + a.error);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  bool json = !parser.parse(a.body).get(doc);
  auto type = a.header("x-amzn-errortype");
  if (type.empty() && json)
    type = sv(doc, "__type");
  if (a.status != 200) {
    if (type.find("EntityNotFoundException") != std::string::npos)
      return outcome(state::missing, "schema version " + id
                                       + " is not in Glue's schema registry");
    return outcome(state::unavailable, "Glue GetSchemaVersion answered HTTP "
                                         + std::to_string(a.status) + " "
                                         + type.substr(0, 100));
  }
  if (!json || sv(doc, "SchemaDefinition").empty())
    return outcome(state::unavailable, "Glue GetSchemaVersion answered without"
                                       " a SchemaDefinition");
  out.text = sv(doc, "SchemaDefinition");
  out.type = sv(doc, "DataFormat");
  return outcome(state::ready, "");
}

} // namespace

std::string registry_endpoint::cache_key() const {
  return uri + '\n' + basic_user + '\n' + basic_password + '\n' + tls.ca_pem
         + '\n' + tls.cert_pem + '\n' + glue_endpoint;
}

struct schema_registry_client::core {
  struct entry {
    schema_lookup::state st = schema_lookup::state::pending;
    registry_schema_ptr schema;
    std::string error;
    std::chrono::steady_clock::time_point retry_at{};
    std::chrono::milliseconds backoff{0};
    std::vector<std::function<void()>> waiters;
    std::list<std::string>::iterator lru;
  };

  explicit core(registry_endpoint ep) : ep_(std::move(ep)) {
  }

  schema_lookup find(const std::string& id, std::function<void()> on_ready);
  void run();
  /// The blocking fetch and compile of one id.
  schema_lookup fetch(const std::string& id);
  void touch(const std::string& id, entry& e);

  registry_endpoint ep_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::map<std::string, entry> entries_;
  std::list<std::string> lru_; // front: most recent
  std::deque<std::string> queue_;
  uint64_t fetches_ = 0;
  bool stopping_ = false;
};

schema_registry_client::schema_registry_client(registry_endpoint ep)
  : core_(std::make_shared<core>(std::move(ep))) {
  std::thread([c = core_] { c->run(); }).detach();
}

schema_registry_client::~schema_registry_client() {
  {
    std::lock_guard<std::mutex> guard{core_->mtx_};
    core_->stopping_ = true;
    for (auto& [id, e] : core_->entries_)
      e.waiters.clear(); // nobody waits on a client that is gone
  }
  core_->cv_.notify_all();
}

uint64_t schema_registry_client::fetches() const {
  std::lock_guard<std::mutex> guard{core_->mtx_};
  return core_->fetches_;
}

schema_lookup schema_registry_client::find(const std::string& id,
                                           std::function<void()> on_ready) {
  return core_->find(id, std::move(on_ready));
}

void schema_registry_client::core::touch(const std::string& id, entry& e) {
  lru_.erase(e.lru);
  lru_.push_front(id);
  e.lru = lru_.begin();
}

schema_lookup schema_registry_client::core::find(const std::string& id,
                                                 std::function<void()> on_ready) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    lru_.push_front(id);
    auto& e = entries_[id];
    e.lru = lru_.begin();
    e.waiters.push_back(std::move(on_ready));
    queue_.push_back(id);
    cv_.notify_one();
    // Bounded: the least recently used settled entries go.
    for (auto victim = lru_.end(); entries_.size() > ep_.cache_capacity
                                   && victim != lru_.begin();) {
      --victim;
      auto v = entries_.find(*victim);
      if (v->second.st == state::pending)
        continue;
      entries_.erase(v);
      victim = lru_.erase(victim);
    }
    return outcome(state::pending, "");
  }
  auto& e = it->second;
  touch(id, e);
  if (e.st == state::ready) {
    schema_lookup out;
    out.st = state::ready;
    out.schema = e.schema;
    return out;
  }
  if (e.st != state::pending && clock::now() >= e.retry_at) {
    e.st = state::pending;
    queue_.push_back(id);
    cv_.notify_one();
  }
  if (e.st == state::pending) {
    e.waiters.push_back(std::move(on_ready));
    return outcome(state::pending, "");
  }
  return outcome(e.st, e.error);
}

void schema_registry_client::core::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_)
      return;
    auto id = queue_.front();
    queue_.pop_front();
    ++fetches_;
    lock.unlock();
    auto got = fetch(id);
    lock.lock();
    if (stopping_)
      return; // the client is gone: no callback, no state to keep
    auto it = entries_.find(id);
    if (it == entries_.end())
      continue;
    auto& e = it->second;
    e.st = got.st;
    e.schema = got.schema;
    e.error = got.error;
    if (got.st == state::unavailable) {
      e.backoff = std::min<std::chrono::milliseconds>(
        std::chrono::seconds(30),
        std::max<std::chrono::milliseconds>(std::chrono::seconds(1),
                                            e.backoff * 2));
      e.retry_at = clock::now() + e.backoff;
    } else {
      e.backoff = std::chrono::milliseconds(0);
      e.retry_at = clock::now() + std::chrono::seconds(60);
    }
    auto waiters = std::move(e.waiters);
    e.waiters.clear();
    lock.unlock();
    for (auto& w : waiters)
      if (w)
        w();
    lock.lock();
  }
}

schema_lookup schema_registry_client::core::fetch(const std::string& id) {
  fetched f;
  schema_lookup got;
  bool glue = ep_.uri.rfind("arn:", 0) == 0;
  if (glue) {
    got = glue_get(ep_, id, f);
  } else {
    confluent c(ep_);
    got = c.get("/schemas/ids/" + id, "schema id " + id, f, 0);
  }
  if (got.st != state::ready)
    return got;
  auto s = std::make_shared<registry_schema>();
  s->id = id;
  s->data_format = f.type;
  std::string what = (glue ? "schema version " : "schema id ") + id + ": ";
  if (f.type == "AVRO") {
    std::vector<std::string> refs;
    for (auto& r : f.references)
      refs.push_back(r.second);
    auto c = codecs::avro_schema::compile(f.text, refs);
    if (!c)
      return outcome(state::missing, what + c.err().message);
    s->avro = std::move(*c);
  } else if (f.type == "PROTOBUF") {
    auto c = codecs::protobuf_schema::compile(f.text, f.references);
    if (!c)
      return outcome(state::missing, what + c.err().message);
    s->protobuf = std::move(*c);
  } else if (f.type == "JSON") {
    auto c = codecs::json_schema::compile(f.text);
    if (!c)
      return outcome(state::missing, what + c.err().message);
    s->json = std::move(*c);
  } else {
    return outcome(state::missing, what + "schema type " + f.type.substr(0, 50)
                                     + " is not AVRO, PROTOBUF or JSON");
  }
  s->meta = codecs::schema_meta{s->data_format, s->id};
  got.schema = std::move(s);
  return got;
}

std::shared_ptr<schema_registry_client>
schema_registry_client::shared(const registry_endpoint& ep) {
  static std::mutex mtx;
  static std::map<std::string, std::weak_ptr<schema_registry_client>> clients;
  std::lock_guard<std::mutex> guard{mtx};
  auto key = ep.cache_key();
  if (auto c = clients[key].lock())
    return c;
  auto c = std::make_shared<schema_registry_client>(ep);
  clients[key] = c;
  return c;
}

codecs::expected<registry_endpoint>
make_registry_endpoint(const codecs::schema_registry_config& cfg,
                       const secret_source* secrets,
                       std::shared_ptr<aws::credential_provider> credentials) {
  registry_endpoint ep;
  ep.uri = cfg.uri;
  auto fail = [](std::string why) {
    return codecs::error{codecs::errc::invalid_parameter,
                         "SchemaRegistryConfig: " + std::move(why)};
  };
  if (cfg.glue()) {
    if (!credentials)
      return fail("a Glue schema registry needs AWS credentials; kesm has"
                  " none configured (set AWS_* or a profile, or use a"
                  " Confluent-compatible registry)");
    ep.glue_region = aws::arn_field(cfg.uri, 3);
    ep.glue_endpoint = aws::endpoint_for("GLUE", "glue", ep.glue_region);
    while (!ep.glue_endpoint.empty() && ep.glue_endpoint.back() == '/')
      ep.glue_endpoint.pop_back();
    ep.credentials = std::move(credentials);
    return ep;
  }
  // Lambda's secret shapes, read and checked as SourceAccessConfigurations
  // secrets are (codecs/access_config).
  auto secret = [&](const std::string& arn, const char* type)
    -> codecs::expected<std::map<std::string, std::string>> {
    if (secrets == nullptr)
      return fail(std::string(type) + " secret " + arn
                  + ": kesm has no secret source configured");
    auto text = secrets->get(arn);
    if (!text)
      return fail(text.err().message);
    auto fields = codecs::read_secret(arn, *text);
    if (!fields)
      return fail(fields.err().message);
    return fields;
  };
  auto take = [&](const std::map<std::string, std::string>& fields,
                  const std::string& arn, const char* type, const char* key,
                  std::string& slot) -> codecs::expected<bool> {
    auto v = codecs::need(fields, arn, type, key);
    if (!v)
      return fail(v.err().message);
    slot = std::move(*v);
    return true;
  };
  if (!cfg.basic_auth.empty()) {
    auto f = secret(cfg.basic_auth, "BASIC_AUTH");
    if (!f)
      return f.err();
    for (auto [key, slot] : {std::pair{"username", &ep.basic_user},
                             std::pair{"password", &ep.basic_password}})
      if (auto ok = take(*f, cfg.basic_auth, "BASIC_AUTH", key, *slot); !ok)
        return ok.err();
  }
  if (!cfg.client_certificate.empty()) {
    const char* type = "CLIENT_CERTIFICATE_TLS_AUTH";
    auto f = secret(cfg.client_certificate, type);
    if (!f)
      return f.err();
    for (auto [key, slot] : {std::pair{"certificate", &ep.tls.cert_pem},
                             std::pair{"privateKey", &ep.tls.key_pem}})
      if (auto ok = take(*f, cfg.client_certificate, type, key, *slot); !ok)
        return ok.err();
    if (auto p = f->find("privateKeyPassword"); p != f->end())
      ep.tls.key_password = p->second;
  }
  if (!cfg.root_ca.empty()) {
    auto f = secret(cfg.root_ca, "SERVER_ROOT_CA_CERTIFICATE");
    if (!f)
      return f.err();
    if (auto ok = take(*f, cfg.root_ca, "SERVER_ROOT_CA_CERTIFICATE",
                       "certificate", ep.tls.ca_pem);
        !ok)
      return ok.err();
  }
  return ep;
}

} // namespace kesm::transport
