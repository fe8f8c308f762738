#include "actors/mapping_registry.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>

#include <simdjson.h>

#include "actors/atoms.hpp"
#include "actors/status_report.hpp"
#include "codecs/access_config.hpp"
#include "codecs/event_writer.hpp"
#include "codecs/mapping_update.hpp"
#include "transport/aws/msk_iam.hpp"
#include "transport/dashboard.hpp"
#include "transport/metrics.hpp"
#include "transport/kafka.hpp"
#include "transport/log.hpp"

namespace kesm::actors {

namespace {

using transport::api_reply;
using transport::api_request;
using transport::log;
using transport::log_level;

constexpr std::string_view api_prefix = "/2015-03-31/event-source-mappings";
/// kesm's own status of every mapping (the dashboard, `kesm status`).
constexpr std::string_view status_path = "/kesm/status";

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// One mapping the registry knows.
struct entry {
  /// CreateEventSourceMapping JSON with the updates applied (API mappings).
  std::string document;
  codecs::mapping_config cfg;
  codecs::mapping_runtime rt;
  /// `api` or `config`.
  std::string source;
  caf::actor sup;
  bool deleting = false;
  /// Start a new supervisor once the current one is down (an update).
  bool restart = false;
  /// A live update was sent to the supervisor and not yet confirmed.
  bool updating = false;
  /// After a supervisor failed (e.g. its consumer could not be built):
  /// when to start it again, and the wait after the next failure.
  std::optional<std::chrono::steady_clock::time_point> retry_at;
  std::chrono::seconds retry_delay{1};
  /// The supervisor's last status answer, and a second-by-second history
  /// of it for the dashboard (`GET /kesm/status`).
  std::optional<mapping_status> last;
  status_history history;
};

/// State of the registry. Touched only by the registry's own thread.
struct registry_state {
  registry_options opts;
  std::map<std::string, entry> entries;
  std::vector<std::string> order; // creation order, for List
  /// MSK clusters resolved through discover_cluster (kept across reloads).
  std::map<std::string, std::vector<std::string>> discovered;
  bool stopping = false;
  caf::error exit_reason;

  static inline const char* name = "kesm.registry";
};

using self_ptr = caf::stateful_actor<registry_state>*;

api_reply error_reply(int status, const char* type, const std::string& msg) {
  // Messages quote what the caller sent: a short prefix, valid UTF-8.
  return api_reply{status, codecs::error_body("User", msg), type};
}

api_reply invalid(const std::string& msg) {
  return error_reply(400, "InvalidParameterValueException", msg);
}

api_reply not_found(const std::string& msg) {
  return error_reply(404, "ResourceNotFoundException", msg);
}

api_reply from_codec_error(const codecs::error& err) {
  return err.code == codecs::errc::not_found ? not_found(err.message)
                                             : invalid(err.message);
}

/// The function registry key of a FunctionName: a name, `name:qualifier`,
/// or a function ARN. An ARN of this kesm's region and account names the
/// local function; another account's or region's resolves only when the
/// config file declares a function under that ARN (qualifier left out).
/// Empty when nothing may answer for it.
std::string function_key(const std::string& name,
                         const registry_options& opts) {
  std::string s = name;
  if (s.rfind("arn:", 0) == 0) {
    auto pos = s.find(":function:");
    if (pos == std::string::npos)
      return {};
    auto base = s.substr(0, s.find(':', pos + 10));
    if (opts.functions.count(base))
      return base;
    auto local = "arn:aws:lambda:" + opts.arns.region + ":" + opts.arns.account;
    if (s.compare(0, pos, local) != 0)
      return {};
    s = s.substr(pos + 10);
  }
  return s.substr(0, s.find(':'));
}

api_reply config_reply(self_ptr self, const entry& e, int status) {
  return api_reply{status,
                   codecs::to_configuration_json(e.cfg, e.rt,
                                                 self->state.opts.arns),
                   ""};
}

void set_state(entry& e, const char* state) {
  if (e.rt.state != state)
    log(log_level::debug, "mapping " + e.cfg.uuid,
        "registry: " + e.rt.state + " -> " + state);
  e.rt.state = state;
}

/// `e` cannot run now (`why`: a PROBLEM text): it starts again later,
/// waiting longer each time (1 s doubling to 60 s), so a mapping that
/// cannot run costs a few lines a minute, not a loop.
void retry_later(entry& e, std::string why) {
  if (why.rfind("PROBLEM: ", 0) != 0)
    why = "PROBLEM: " + why;
  e.rt.last_processing_result = why;
  e.retry_at = std::chrono::steady_clock::now() + e.retry_delay;
  log(log_level::warning, "mapping " + e.cfg.uuid,
      why + "; starting again in " + std::to_string(e.retry_delay.count())
        + " s");
  e.retry_delay = std::min(e.retry_delay * 2, std::chrono::seconds(60));
}

/// The Kafka security properties of `cfg` with its secrets read now.
codecs::expected<transport::kafka_props> security(self_ptr self,
                                                  const codecs::mapping_config& cfg) {
  auto& opts = self->state.opts;
  if (!cfg.echoed.count("SourceAccessConfigurations"))
    return transport::kafka_props{};
  if (!opts.secrets)
    return codecs::error{codecs::errc::invalid_parameter,
                         "SourceAccessConfigurations name secrets, and this"
                         " kesm has no secret source; add \"secrets\" or"
                         " \"secrets_dir\" to its config file"};
  return transport::resolve_security(cfg, *opts.secrets, opts.defaults.kafka);
}

/// The mapping's schema registry client (shared with every mapping of the
/// same registry and credentials), its secrets read now.
codecs::expected<transport::schema_decoding_ptr>
schema_registry(self_ptr self, const codecs::mapping_config& cfg) {
  auto& opts = self->state.opts;
  std::shared_ptr<transport::aws::credential_provider> creds;
  if (cfg.schema_registry.glue()) {
    if (!opts.aws_credentials)
      return codecs::error{codecs::errc::invalid_parameter,
                           "SchemaRegistryConfig: a Glue registry needs AWS"
                           " credentials, which this kesm was not given"};
    auto c = opts.aws_credentials();
    if (!c)
      return c.err();
    creds = *c;
  }
  auto ep = transport::make_registry_endpoint(cfg.schema_registry,
                                              opts.secrets.get(), creds);
  if (!ep)
    return ep.err();
  auto d = std::make_shared<transport::schema_decoding>();
  d->cfg = cfg.schema_registry;
  d->client = transport::schema_registry_client::shared(*ep);
  return transport::schema_decoding_ptr{std::move(d)};
}

/// The authentication of an MSK mapping's document, for its bootstrap
/// list: `scram`, `tls`, `iam` or `plaintext`.
std::string msk_auth(self_ptr self, std::string_view document) {
  if (document.find("SASL_SCRAM_512_AUTH") != std::string_view::npos)
    return "scram";
  if (document.find("CLIENT_CERTIFICATE_TLS_AUTH") != std::string_view::npos)
    return "tls";
  return self->state.opts.msk_iam ? "iam" : "plaintext";
}

/// parse_mapping, asking AWS for an undeclared MSK cluster's brokers when
/// discovery is on (remembered across config reloads).
codecs::expected<codecs::mapping_config>
parse(self_ptr self, std::string_view document, std::string uuid) {
  auto& st = self->state;
  auto cfg = codecs::parse_mapping(document, st.opts.clusters, uuid, now_ms());
  if (cfg || cfg.err().code != codecs::errc::not_found
      || !st.opts.discover_cluster)
    return cfg;
  simdjson::dom::parser parser;
  std::string_view arn;
  if (parser.parse(document.data(), document.size())["EventSourceArn"].get(arn))
    return cfg;
  if (arn.find(":vpc-connection/") != std::string_view::npos)
    return codecs::error{codecs::errc::not_found,
                         cfg.err().message
                           + " (a cross-account vpc-connection has no"
                             " GetBootstrapBrokers; list its brokers there)"};
  auto brokers = st.opts.discover_cluster(std::string(arn),
                                          msk_auth(self, document));
  if (!brokers)
    return brokers.err();
  log(log_level::info, "registry",
      "cluster " + std::string(arn) + ": bootstrap servers from AWS");
  st.discovered[std::string(arn)] = *brokers;
  st.opts.clusters[std::string(arn)] = *brokers;
  return codecs::parse_mapping(document, st.opts.clusters, std::move(uuid),
                               now_ms());
}

/// The props that make an MSK mapping without its own authentication use
/// IAM, when `msk_iam` is on.
void add_msk_iam(self_ptr self, const codecs::mapping_config& cfg,
                 transport::kafka_props& props) {
  if (cfg.event_source_arn.empty())
    return;
  auto acl = cfg.echoed.find("SourceAccessConfigurations");
  if (msk_auth(self, acl != cfg.echoed.end() ? acl->second : "") != "iam")
    return;
  for (auto& [k, v] :
       transport::aws::msk_iam_props(
         transport::aws::arn_region(cfg.event_source_arn)))
    props[k] = v;
}

void start(self_ptr self, entry& e) {
  auto& opts = self->state.opts;
  auto fn = opts.functions.find(function_key(e.cfg.function_name, opts));
  if (fn == opts.functions.end()) { // removed from the config file since
    e.rt.last_processing_result = "PROBLEM: Function not found: "
                                  + e.cfg.function_name;
    set_state(e, "Disabled");
    return;
  }
  e.retry_at.reset();
  // Secrets are read at every start, so a rotated one is picked up by the
  // next start (after an authentication failure, the supervisor's restart).
  auto sec = security(self, e.cfg);
  if (!sec) {
    retry_later(e, sec.err().message);
    return;
  }
  if (auto a = e.cfg.echoed.find("SourceAccessConfigurations");
      a != e.cfg.echoed.end() && a->second.find("\"VPC_") != std::string::npos)
    log(log_level::info, "mapping " + e.cfg.uuid,
        "VPC_SUBNET / VPC_SECURITY_GROUP ignored: kesm connects from this"
        " host's network");
  mapping_options mo = opts.defaults;
  if (e.cfg.schema_registry.enabled()) {
    auto schemas = schema_registry(self, e.cfg);
    if (!schemas) {
      retry_later(e, schemas.err().message);
      return;
    }
    mo.schemas = std::move(*schemas);
  }
  for (auto& [k, v] : *sec)
    mo.kafka[k] = v;
  add_msk_iam(self, e.cfg, mo.kafka);
  mo.config = e.cfg;
  mo.target = fn->second;
  e.sup = spawn_mapping(self->system(), std::move(mo));
  self->monitor(e.sup);
}

/// Stops a running supervisor cleanly; its down message finishes the move.
void stop(entry& e) {
  if (e.sup)
    caf::anon_send_exit(e.sup, caf::exit_reason::user_shutdown);
}

/// ResourceNotFoundException when `name` is no function of the config file.
std::optional<api_reply> unknown_function(self_ptr self,
                                          const std::string& name) {
  auto& opts = self->state.opts;
  if (opts.functions.count(function_key(name, opts)))
    return std::nullopt;
  return not_found("Function not found: "
                   + codecs::function_arn(name, opts.arns));
}

/// Drops a mapping from the registry's books (not from the store).
void forget(self_ptr self, const std::string& uuid) {
  auto& st = self->state;
  st.entries.erase(uuid);
  st.order.erase(std::find(st.order.begin(), st.order.end(), uuid));
}

/// AWS's poller-group limits: at most 100 mappings and 2000 pollers (sum
/// of MaximumPollers) a group. `except`: the mapping being updated.
std::optional<api_reply> group_full(self_ptr self,
                                    const codecs::mapping_config& cfg,
                                    const std::string& except) {
  if (cfg.poller_group.empty())
    return std::nullopt;
  size_t members = 1;
  int64_t pollers = cfg.max_pollers;
  for (auto& [uuid, e] : self->state.entries)
    if (uuid != except && !e.deleting && e.cfg.poller_group == cfg.poller_group) {
      ++members;
      pollers += e.cfg.max_pollers;
    }
  if (members > 100)
    return invalid("Poller group " + cfg.poller_group
                   + " already has 100 event source mappings, the most a"
                     " group may hold; use another PollerGroupName");
  if (pollers > 2000)
    return invalid("The MaximumPollers of poller group " + cfg.poller_group
                   + " would add up to " + std::to_string(pollers)
                   + "; a poller group allows at most 2000. Lower"
                     " MaximumPollers or use another PollerGroupName");
  return std::nullopt;
}

/// Stops `uuid`'s supervisor (its down message forgets it) or forgets it
/// now when none runs.
void delete_entry(self_ptr self, const std::string& uuid) {
  auto& e = self->state.entries.at(uuid);
  if (e.sup) {
    e.deleting = true;
    e.restart = false;
    stop(e);
  } else {
    forget(self, std::string(uuid)); // a copy: erasing frees the key
  }
}

bool group_taken(self_ptr self, const std::string& group,
                 const std::string& except) {
  for (auto& [uuid, e] : self->state.entries)
    if (uuid != except && !e.deleting && e.cfg.consumer_group_id == group)
      return true;
  return false;
}

caf::expected<bool> persist(self_ptr self, const entry& e) {
  auto& store = self->state.opts.store;
  if (!store || e.source != "api")
    return true;
  auto ok = store->put(transport::stored_mapping{e.cfg.uuid, e.document,
                                                 e.source, e.rt.last_modified});
  if (!ok)
    return caf::make_error(caf::sec::runtime_error, ok.err().message);
  return true;
}

api_reply create(self_ptr self, const api_request& req) {
  auto& st = self->state;
  auto cfg = parse(self, req.body, "");
  if (!cfg)
    return from_codec_error(cfg.err());
  if (auto ok = codecs::check_allowed_clusters(*cfg, st.opts.allowed_clusters);
      !ok)
    return from_codec_error(ok.err());
  if (auto missing = unknown_function(self, cfg->function_name))
    return *missing;
  if (auto full = group_full(self, *cfg, ""))
    return *full;
  if (auto sec = security(self, *cfg); !sec)
    return invalid(sec.err().message);
  if (group_taken(self, cfg->consumer_group_id, ""))
    return error_reply(409, "ResourceConflictException",
                       "An event source mapping with consumer group id "
                         + cfg->consumer_group_id
                         + " already exists; choose another ConsumerGroupId");
  entry e;
  e.document = req.body;
  e.cfg = *cfg;
  e.source = "api";
  e.rt.last_modified = now_ms() / 1000;
  e.rt.state = cfg->enabled ? "Creating" : "Disabled";
  if (auto ok = persist(self, e); !ok)
    return error_reply(500, "ServiceException", to_string(ok.error()));
  auto uuid = e.cfg.uuid;
  auto& stored = st.entries[uuid] = std::move(e);
  st.order.push_back(uuid);
  log(log_level::info, "mapping " + uuid,
      "created: topic " + stored.cfg.topic + " -> "
        + stored.cfg.function_name);
  if (stored.cfg.enabled)
    start(self, stored);
  return config_reply(self, stored, 202);
}

void apply(self_ptr self, entry& e);

api_reply update(self_ptr self, entry& e, const api_request& req) {
  auto& st = self->state;
  if (e.source == "config")
    return error_reply(409, "ResourceConflictException",
                       "This event source mapping is defined in the config"
                       " file; change it there");
  if (e.deleting || e.restart || e.updating || e.rt.state == "Disabling")
    return error_reply(400, "ResourceInUseException",
                       "The event source mapping is in state " + e.rt.state
                         + "; try again when it is Enabled or Disabled");
  auto merged = codecs::apply_update(e.document, req.body);
  if (!merged)
    return from_codec_error(merged.err());
  auto cfg = parse(self, *merged, e.cfg.uuid);
  if (!cfg)
    return from_codec_error(cfg.err());
  if (cfg->consumer_group_id != e.cfg.consumer_group_id)
    return invalid("ConsumerGroupId cannot be updated: it is set only when"
                   " the event source mapping is created");
  if (auto missing = unknown_function(self, cfg->function_name))
    return *missing;
  if (auto full = group_full(self, *cfg, e.cfg.uuid))
    return *full;
  if (auto sec = security(self, *cfg); !sec)
    return invalid(sec.err().message);
  if (auto ok = codecs::check_allowed_clusters(*cfg, st.opts.allowed_clusters);
      !ok)
    return from_codec_error(ok.err());
  auto previous = e;
  e.document = *merged;
  e.cfg = *cfg;
  e.rt.last_modified = now_ms() / 1000;
  if (auto ok = persist(self, e); !ok) {
    e = previous;
    return error_reply(500, "ServiceException", to_string(ok.error()));
  }
  if (e.sup && e.cfg.enabled
      && previous.cfg.schema_registry != e.cfg.schema_registry) {
    // Decoding happens in the readers: a new supervisor picks the new
    // registry up (a clean stop, committing, then a start).
    set_state(e, "Updating");
    e.restart = true;
    stop(e);
  } else {
    apply(self, e);
  }
  return config_reply(self, e, 202);
}

/// Brings the running side of `e` in line with its (changed) `cfg`.
void apply(self_ptr self, entry& e) {
  auto& st = self->state;
  if (e.sup && e.cfg.enabled) {
    // Applied live by the running supervisor: no restart, no rebalance.
    set_state(e, "Updating");
    e.updating = true;
    auto id = e.cfg.uuid;
    auto& fn = st.opts.functions.at(function_key(e.cfg.function_name, st.opts));
    self->request(e.sup, std::chrono::seconds(10), config_atom_v, e.cfg, fn)
      .then(
        [=](bool) {
          auto it = self->state.entries.find(id);
          if (it == self->state.entries.end())
            return;
          it->second.updating = false;
          if (it->second.rt.state == "Updating")
            set_state(it->second, "Enabled");
        },
        [=](const caf::error& err) {
          auto it = self->state.entries.find(id);
          if (it == self->state.entries.end())
            return;
          it->second.updating = false;
          log(log_level::warning, "mapping " + id,
              "live update not confirmed: " + to_string(err));
        });
  } else if (e.sup) {
    set_state(e, "Disabling");
    stop(e);
  } else if (e.cfg.enabled) {
    set_state(e, "Enabling");
    start(self, e);
  } else {
    set_state(e, "Disabled");
  }
}

api_reply remove(self_ptr self, const std::string& uuid) {
  auto& st = self->state;
  auto& e = st.entries.at(uuid);
  if (e.source == "config")
    return error_reply(409, "ResourceConflictException",
                       "This event source mapping is defined in the config"
                       " file; remove it there");
  if (st.opts.store) {
    auto ok = st.opts.store->erase(uuid);
    if (!ok)
      return error_reply(500, "ServiceException", ok.err().message);
  }
  set_state(e, "Deleting");
  auto reply = config_reply(self, e, 202);
  delete_entry(self, uuid);
  return reply;
}

api_reply list(self_ptr self, const api_request& req) {
  auto& st = self->state;
  auto q = [&](const char* k) {
    auto it = req.query.find(k);
    return it == req.query.end() ? std::string{} : it->second;
  };
  auto fn = q("FunctionName"), arn = q("EventSourceArn"), marker = q("Marker"),
       max = q("MaxItems");
  size_t page = 100, from = 0;
  if (!max.empty()) {
    char* end = nullptr;
    long v = std::strtol(max.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > 10000)
      return invalid("1 validation error detected: Value '" + max
                     + "' at 'maxItems' failed to satisfy constraint: Member"
                       " must have value between 1 and 10000");
    page = std::min<size_t>(100, static_cast<size_t>(v));
  }
  if (!marker.empty()) {
    char* end = nullptr;
    long v = std::strtol(marker.c_str(), &end, 10);
    if (*end != '\0' || v < 0)
      return invalid("Invalid Marker " + marker
                     + "; pass the NextMarker of the previous page");
    from = static_cast<size_t>(v);
  }
  std::vector<const entry*> matching;
  for (auto& uuid : st.order) {
    auto& e = st.entries.at(uuid);
    if (!fn.empty()
        && function_key(fn, st.opts)
             != function_key(e.cfg.function_name, st.opts))
      continue;
    if (!arn.empty() && arn != e.cfg.event_source_arn)
      continue;
    matching.push_back(&e);
  }
  std::string body = "{\"EventSourceMappings\":[";
  size_t end = std::min(matching.size(), from + page);
  for (size_t i = from; i < end; ++i) {
    if (i > from)
      body += ',';
    body += codecs::to_configuration_json(matching[i]->cfg, matching[i]->rt,
                                          st.opts.arns);
  }
  body += ']';
  if (end < matching.size())
    body += ",\"NextMarker\":\"" + std::to_string(end) + "\"";
  body += '}';
  return api_reply{200, body, ""};
}

/// Whether a LastProcessingResult says the mapping cannot read its topic
/// (as opposed to a function that fails, which retries handle).
bool cannot_poll(const std::string& result) {
  for (auto* prefix :
       {"PROBLEM: Connection error", "PROBLEM: Topic not found",
        "PROBLEM: Kafka", "PROBLEM: cannot create Kafka client",
        "PROBLEM: subscribe failed"})
    if (result.rfind(prefix, 0) == 0)
      return true;
  return false;
}

/// `/readyz`: 200 when every enabled mapping can poll its topic, else 503
/// naming those that cannot.
api_reply readiness(self_ptr self) {
  auto& st = self->state;
  std::string problems;
  for (auto& uuid : st.order) {
    auto& e = st.entries.at(uuid);
    if (!e.cfg.enabled || e.deleting
        || !cannot_poll(e.rt.last_processing_result))
      continue;
    problems += problems.empty() ? "" : ",";
    problems += "{\"UUID\":\"" + uuid + "\",\"LastProcessingResult\":";
    codecs::event_writer::append_json_string(problems,
                                             e.rt.last_processing_result);
    problems += '}';
  }
  auto count = std::to_string(st.entries.size());
  if (problems.empty())
    return api_reply{200, "{\"status\":\"ready\",\"mappings\":" + count + "}",
                     ""};
  return api_reply{503,
                   "{\"status\":\"not ready\",\"mappings\":" + count
                     + ",\"cannotPoll\":[" + problems + "]}",
                   ""};
}

/// ListTags (`GET /2017-03-31/tags/{ARN}`): the tags a mapping was
/// created with.
api_reply list_tags(self_ptr self, const api_request& req,
                    std::string_view arn) {
  auto& st = self->state;
  if (req.method != "GET")
    return error_reply(405, "InvalidParameterValueException",
                       req.method.substr(0, 16) + " is not allowed on "
                         + req.path.substr(0, 200)
                         + "; kesm answers ListTags (GET) only: tags are"
                           " set at create");
  for (auto& [uuid, e] : st.entries) {
    if (e.deleting || codecs::mapping_arn(uuid, st.opts.arns) != arn)
      continue;
    auto tags = e.cfg.echoed.find("Tags");
    return api_reply{200,
                     "{\"Tags\":"
                       + (tags == e.cfg.echoed.end() ? std::string("{}")
                                                     : tags->second)
                       + "}",
                     ""};
  }
  return not_found("The resource you requested does not exist: "
                   + std::string(arn.substr(0, 200)));
}

/// `GET /kesm/status`: every mapping's state, totals, rates, lag per
/// partition and (unless `?history=0`) the last minutes second by second;
/// read by the dashboard and `kesm status`.
api_reply status_report(self_ptr self, const api_request& req) {
  auto& st = self->state;
  if (req.method != "GET")
    return error_reply(405, "InvalidParameterValueException",
                       req.method.substr(0, 16) + " is not allowed on "
                         + std::string(status_path) + "; use GET");
  auto h = req.query.find("history");
  bool with_history = h == req.query.end() || h->second != "0";
  std::string out = "{\"time\":" + std::to_string(now_ms())
                    + ",\"mappings\":[";
  bool first = true;
  for (auto& uuid : st.order) {
    auto& e = st.entries.at(uuid);
    if (e.deleting)
      continue;
    if (!first)
      out += ',';
    first = false;
    status_view v;
    v.cfg = &e.cfg;
    v.rt = &e.rt;
    v.source = &e.source;
    v.last = e.sup && e.last ? &*e.last : nullptr;
    v.history = &e.history;
    append_status_json(out, v, with_history);
  }
  out += "]}";
  return api_reply{200, std::move(out), ""};
}

api_reply route(self_ptr self, const api_request& req) {
  auto& st = self->state;
  constexpr std::string_view tags_prefix = "/2017-03-31/tags/";
  if (std::string_view{req.path}.substr(0, tags_prefix.size()) == tags_prefix)
    return list_tags(self, req,
                     std::string_view{req.path}.substr(tags_prefix.size()));
  if (req.path == "/healthz")
    return api_reply{200, "{\"status\":\"ok\"}", ""};
  if (req.path == "/readyz")
    return readiness(self);
  if (req.path == status_path)
    return status_report(self, req);
  std::string_view path = req.path;
  if (path.substr(0, api_prefix.size()) != api_prefix)
    return error_reply(404, "ResourceNotFoundException",
                       "No such path " + req.path.substr(0, 200)
                         + "; the API is under " + std::string(api_prefix)
                         + "/");
  auto rest = path.substr(api_prefix.size());
  if (!rest.empty() && rest.front() == '/')
    rest.remove_prefix(1);
  if (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos)
    return error_reply(404, "ResourceNotFoundException",
                       "No such path " + req.path.substr(0, 200));
  if (rest.empty()) {
    if (req.method == "POST")
      return create(self, req);
    if (req.method == "GET")
      return list(self, req);
    return error_reply(405, "InvalidParameterValueException",
                       req.method.substr(0, 16) + " is not allowed on "
                         + req.path.substr(0, 200)
                         + "; use POST (create) or GET (list)");
  }
  std::string uuid(rest);
  auto it = st.entries.find(uuid);
  if (it == st.entries.end() || it->second.deleting)
    return not_found("The resource you requested does not exist: event"
                     " source mapping "
                     + uuid);
  if (req.method == "GET")
    return config_reply(self, it->second, 200);
  if (req.method == "PUT")
    return update(self, it->second, req);
  if (req.method == "DELETE")
    return remove(self, uuid);
  return error_reply(405, "InvalidParameterValueException",
                     req.method.substr(0, 16) + " is not allowed on "
                         + req.path.substr(0, 200)
                       + "; use GET, PUT or DELETE");
}

void on_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  for (auto& [uuid, e] : st.entries) {
    if (e.sup.address() != dm.source)
      continue;
    e.sup = nullptr;
    if (e.deleting) {
      log(log_level::info, "mapping " + uuid, "registry: deleted");
      if (st.opts.defaults.metrics)
        st.opts.defaults.metrics->remove(uuid, e.cfg.topic); // its
                                                             // supervisor
                                                             // is gone
      forget(self, std::string(uuid)); // a copy: erasing frees the key
    } else if (st.stopping) {
      // stays as it is; the process is going down
    } else if (e.restart) {
      e.restart = false;
      start(self, e);
    } else if (e.cfg.enabled
               && dm.reason != caf::exit_reason::user_shutdown) {
      // It failed (the supervisor's last PROBLEM is the exit's context).
      std::string why = to_string(dm.reason);
      auto& ctx = dm.reason.context();
      if (ctx.match_element<std::string>(0))
        why = ctx.get_as<std::string>(0);
      // The cluster refused the consumer: Lambda's reason, until it runs.
      if (ctx.size() > 1 && ctx.match_element<std::string>(1)) {
        e.rt.state_transition_reason = ctx.get_as<std::string>(1);
        // Refused credentials: the next start reads them anew (rotation).
        auto acl = e.cfg.echoed.find("SourceAccessConfigurations");
        if (st.opts.secrets && acl != e.cfg.echoed.end())
          if (auto list = codecs::parse_access(acl->second))
            for (auto& entry : *list)
              st.opts.secrets->forget(entry.uri);
      }
      retry_later(e, std::move(why));
    } else {
      set_state(e, "Disabled");
    }
    break;
  }
  if (st.stopping) {
    for (auto& [uuid, e] : st.entries)
      if (e.sup)
        return;
    self->quit(st.exit_reason);
  }
}

/// Books a mapping of the config file (not started).
entry& add_config_mapping(self_ptr self, const codecs::mapping_config& cfg) {
  auto& st = self->state;
  entry e;
  e.cfg = cfg;
  e.source = "config";
  e.rt.last_modified = now_ms() / 1000;
  e.rt.state = cfg.enabled ? "Creating" : "Disabled";
  st.order.push_back(cfg.uuid);
  return st.entries[cfg.uuid] = std::move(e);
}

void load(self_ptr self) {
  auto& st = self->state;
  for (auto& cfg : st.opts.config_mappings)
    add_config_mapping(self, cfg);
  if (st.opts.store) {
    auto stored = st.opts.store->load_all();
    if (!stored)
      log(log_level::error, "registry", stored.err().message);
    else
      for (auto& m : *stored) {
        auto cfg = parse(self, m.document, m.uuid);
        if (!cfg) {
          log(log_level::error, "mapping " + m.uuid,
              "stored mapping no longer valid, not started: "
                + cfg.err().message);
          continue;
        }
        entry e;
        e.document = m.document;
        e.cfg = *cfg;
        e.source = m.source;
        e.rt.last_modified = m.last_modified;
        e.rt.state = cfg->enabled ? "Creating" : "Disabled";
        st.order.push_back(m.uuid);
        st.entries[m.uuid] = std::move(e);
      }
  }
  for (auto& [uuid, e] : st.entries) {
    if (!e.cfg.enabled)
      continue;
    if (!st.opts.functions.count(function_key(e.cfg.function_name, st.opts))) {
      e.rt.last_processing_result = "PROBLEM: Function not found: "
                                    + e.cfg.function_name;
      set_state(e, "Disabled");
      continue;
    }
    start(self, e);
  }
}

/// Applies a re-read config file (SIGHUP).
std::string reload(self_ptr self, registry_reload& next) {
  auto& st = self->state;
  st.opts.functions = std::move(next.functions);
  st.opts.clusters = std::move(next.clusters);
  for (auto& [arn, brokers] : st.discovered)
    st.opts.clusters.emplace(arn, brokers); // declared ones win
  st.opts.allowed_clusters = std::move(next.allowed_clusters);
  if (next.secrets)
    st.opts.secrets = std::move(next.secrets);
  size_t added = 0, changed = 0, removed = 0;
  std::set<std::string> incoming;
  for (auto& cfg : next.config_mappings) {
    incoming.insert(cfg.uuid);
    auto it = st.entries.find(cfg.uuid);
    if (it == st.entries.end()) {
      auto& stored = add_config_mapping(self, cfg);
      if (stored.cfg.enabled)
        start(self, stored);
      ++added;
      continue;
    }
    auto& e = it->second;
    if (e.source != "config" || e.deleting)
      continue; // an API mapping of the same identity wins
    codecs::mapping_runtime rt;
    if (codecs::to_configuration_json(e.cfg, rt, st.opts.arns)
        == codecs::to_configuration_json(cfg, rt, st.opts.arns))
      continue;
    e.cfg = cfg;
    e.rt.last_modified = now_ms() / 1000;
    ++changed;
    if (e.rt.state == "Disabling") {
      e.restart = e.cfg.enabled; // starts again once the stop is done
      continue;
    }
    apply(self, e);
  }
  std::vector<std::string> gone;
  for (auto& [uuid, e] : st.entries)
    if (e.source == "config" && !e.deleting && !incoming.count(uuid))
      gone.push_back(uuid);
  for (auto& uuid : gone) {
    set_state(st.entries.at(uuid), "Deleting");
    ++removed;
    delete_entry(self, uuid);
  }
  return std::to_string(added) + " mapping(s) added, "
         + std::to_string(changed) + " changed, " + std::to_string(removed)
         + " removed";
}

caf::behavior registry(self_ptr self, registry_options opts) {
  self->state.opts = std::move(opts);
  load(self);
  self->set_down_handler([=](caf::down_msg& dm) { on_down(self, dm); });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& st = self->state;
    st.stopping = true;
    st.exit_reason = msg.reason;
    bool any = false;
    for (auto& [uuid, e] : st.entries)
      if (e.sup) {
        stop(e);
        any = true;
      }
    if (!any)
      self->quit(msg.reason);
  });
  self->send(self, tick_atom_v);
  return {
    [=](api_atom, const api_request& req) { return route(self, req); },
    [=](reload_atom, registry_reload& next) { return reload(self, next); },
    [=](tick_atom) {
      auto now = std::chrono::steady_clock::now();
      for (auto& [uuid, e] : self->state.entries) {
        if (!e.sup && e.retry_at && now >= *e.retry_at && !e.deleting
            && !self->state.stopping) {
          e.retry_at.reset();
          if (e.cfg.enabled)
            start(self, e);
        }
        if (!e.sup || e.deleting)
          continue;
        auto id = uuid;
        self->request(e.sup, std::chrono::seconds(1), status_atom_v)
          .then(
            [=](const mapping_status& s) {
              auto it = self->state.entries.find(id);
              if (it == self->state.entries.end())
                return;
              auto& e = it->second;
              e.history.sample(s, now_ms());
              e.last = s;
              e.rt.last_processing_result = s.last_processing_result;
              if (s.last_processing_result == "OK")
                e.retry_delay = std::chrono::seconds(1);
              if (!s.assigned.empty()
                  && e.rt.state_transition_reason.rfind("EVENT_SOURCE_", 0)
                       == 0)
                e.rt.state_transition_reason = "USER_INITIATED";
              if (s.state == "Enabled" && !e.restart && !e.updating
                  && e.cfg.enabled)
                set_state(e, "Enabled");
            },
            [](const caf::error&) {
              // stopping or busy: the next tick asks again
            });
      }
      self->delayed_send(self, std::chrono::milliseconds(250), tick_atom_v);
    },
  };
}

} // namespace

caf::actor spawn_registry(caf::actor_system& sys, registry_options opts) {
  return sys.spawn<caf::detached>(registry, std::move(opts));
}

transport::api_server::handler
api_handler(caf::actor_system& sys, caf::actor registry,
            std::shared_ptr<transport::metrics> metrics) {
  return [&sys, registry = std::move(registry),
          metrics = std::move(metrics)](const api_request& req) {
    if (req.path == "/metrics") // thread-safe; no need to ask the registry
      return api_reply{200, metrics->render(), "", "text/plain; version=0.0.4"};
    if (req.path == "/" && req.method == "GET")
      return api_reply{200, transport::dashboard_html(), "",
                       "text/html; charset=utf-8"};
    return call_registry(sys, registry, req);
  };
}

api_reply call_registry(caf::actor_system& sys, const caf::actor& registry,
                        const api_request& req) {
  caf::scoped_actor self{sys};
  api_reply reply = error_reply(500, "ServiceException",
                                "kesm did not answer in time; try again");
  self->request(registry, std::chrono::seconds(30), api_atom_v, req)
    .receive([&](const api_reply& r) { reply = r; },
             [](const caf::error&) {
               // keep the ServiceException
             });
  return reply;
}

} // namespace kesm::actors
