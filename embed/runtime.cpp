#include "kesm/runtime.hpp"

#include <mutex>

#include <caf/all.hpp>
#include <simdjson.h>

#include "actors/atoms.hpp"
#include "actors/capacity_pool.hpp"
#include "actors/mapping_control.hpp"
#include "actors/mapping_registry.hpp"
#include "transport/api_server.hpp"
#include "transport/inprocess_target.hpp"
#include "transport/kafka.hpp"
#include "transport/log.hpp"
#include "transport/metrics.hpp"

namespace kesm {

namespace {

transport::log_level parse_level(const std::string& s) {
  if (s == "debug")
    return transport::log_level::debug;
  if (s == "info")
    return transport::log_level::info;
  if (s == "error")
    return transport::log_level::error;
  if (s == "warning")
    return transport::log_level::warning;
  throw error("kesm: log_level " + s
              + " is not one of debug, info, warning, error");
}

/// The `message` of Lambda's error body, or the body itself.
std::string message_of(const transport::api_reply& r) {
  simdjson::dom::parser parser;
  std::string_view msg;
  if (!parser.parse(r.body)["message"].get_string().get(msg))
    return std::string(msg);
  return r.body;
}

} // namespace

struct runtime::impl {
  runtime_options opts;
  std::map<std::string, transport::function_target_ptr> functions;
  std::shared_ptr<transport::metrics> metrics
    = std::make_shared<transport::metrics>();
  std::unique_ptr<actors::actor_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor registry;
  std::unique_ptr<transport::api_server> api;
  int port = -1;
  bool started = false;
  bool stopped = false;
  mutable std::mutex mtx;

  transport::api_reply call(const std::string& method, const std::string& path,
                            std::string body = {},
                            std::map<std::string, std::string> query = {}) const {
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (!started || stopped)
        throw error("kesm: the runtime is not running; call start() first");
    }
    transport::api_request req{method, path, std::move(query),
                               std::move(body)};
    return actors::call_registry(*sys, registry, req);
  }
};

runtime::runtime(runtime_options opts) : impl_(std::make_unique<impl>()) {
  transport::set_log_level(parse_level(opts.log_level));
  impl_->opts = std::move(opts);
}

runtime::~runtime() {
  stop();
}

void runtime::add_handler(const std::string& name, handler fn,
                          size_t threads) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  if (impl_->started)
    throw error("kesm: add_handler(\"" + name
                + "\") after start(); add handlers first");
  if (impl_->functions.count(name))
    throw error("kesm: a handler named " + name + " exists already");
  if (!fn)
    throw error("kesm: add_handler(\"" + name + "\"): empty function");
  auto call = [fn = std::move(fn)](const std::string& event) {
    transport::invocation_result r;
    r.status = 200;
    r.body = fn(event); // a throw is a function error (inprocess_target)
    return r;
  };
  impl_->functions[name] = std::make_shared<transport::inprocess_target>(
    name, std::move(call), std::max<size_t>(1, threads));
}

void runtime::start() {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto& d = *impl_;
  if (d.started)
    throw error("kesm: start() called twice");
  actors::registry_options ro;
  ro.functions = d.functions;
  ro.arns = codecs::arn_context{d.opts.region, d.opts.account};
  ro.defaults.kafka = transport::kafka_props(d.opts.kafka.begin(),
                                             d.opts.kafka.end());
  if (auto ok = transport::check_consumer_props(ro.defaults.kafka); !ok)
    throw error("kesm: kafka: " + ok.err().message);
  ro.defaults.shutdown_grace = std::chrono::seconds(d.opts.shutdown_grace_seconds);
  ro.defaults.max_pollers = 500; // as kesm serve's --max-pollers
  ro.defaults.capacity = std::make_shared<actors::capacity_pool>(
    ro.defaults.max_pollers);
  ro.defaults.metrics = d.metrics;
  d.cfg = std::make_unique<actors::actor_config>();
  d.sys = std::make_unique<caf::actor_system>(*d.cfg);
  d.registry = actors::spawn_registry(*d.sys, std::move(ro));
  d.started = true;
  if (d.opts.api_port < 0)
    return;
  d.api = std::make_unique<transport::api_server>(
    actors::api_handler(*d.sys, d.registry, d.metrics));
  auto bound = d.api->start(d.opts.api_host, d.opts.api_port);
  if (!bound) {
    d.api.reset();
    d.stopped = true;
    actors::stop_mappings(*d.sys, {d.registry});
    throw error("kesm: " + bound.err().message);
  }
  d.port = *bound;
}

std::string runtime::add_mapping(const std::string& create_request_json) {
  auto r = impl_->call("POST", "/2015-03-31/event-source-mappings",
                       create_request_json);
  if (r.status != 202 && r.status != 200)
    throw error("kesm: mapping refused: " + message_of(r));
  simdjson::dom::parser parser;
  std::string_view uuid;
  if (parser.parse(r.body)["UUID"].get_string().get(uuid))
    throw error("kesm: mapping created without a UUID: " + r.body);
  return std::string(uuid);
}

std::string runtime::describe(const std::string& uuid) const {
  auto r = impl_->call("GET", "/2015-03-31/event-source-mappings/" + uuid);
  if (r.status != 200)
    throw error("kesm: " + message_of(r));
  return r.body;
}

void runtime::remove_mapping(const std::string& uuid) {
  auto r = impl_->call("DELETE", "/2015-03-31/event-source-mappings/" + uuid);
  if (r.status != 202 && r.status != 200)
    throw error("kesm: " + message_of(r));
}

std::string runtime::status_json() const {
  return impl_->call("GET", "/kesm/status", {}, {{"history", "0"}}).body;
}

runtime::progress runtime::progress_of(const std::string& uuid) const {
  auto body = status_json();
  simdjson::dom::parser parser;
  simdjson::dom::array mappings;
  progress out;
  if (parser.parse(body)["mappings"].get_array().get(mappings))
    return out;
  for (auto m : mappings) {
    std::string_view id;
    if (m["UUID"].get_string().get(id) || id != uuid)
      continue;
    std::string_view s;
    if (!m["State"].get_string().get(s))
      out.state = std::string(s);
    if (!m["LastProcessingResult"].get_string().get(s))
      out.last_processing_result = std::string(s);
    uint64_t n = 0;
    if (!m["Totals"]["Invoked"].get_uint64().get(n))
      out.invoked = n;
    if (!m["Totals"]["Completed"].get_uint64().get(n))
      out.completed = n;
    if (!m["OffsetLag"].get_uint64().get(n))
      out.offset_lag = n;
    return out;
  }
  throw error("kesm: no mapping " + uuid);
}

int runtime::api_port() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->port;
}

void runtime::stop() {
  auto& d = *impl_;
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    if (!d.started || d.stopped) {
      d.stopped = true;
      return;
    }
    d.stopped = true;
  }
  d.api.reset(); // no new API calls
  actors::stop_mappings(*d.sys, {d.registry});
  d.registry = nullptr;
  d.sys.reset(); // waits for every actor
  transport::wait_destroyed(5000);
  d.functions.clear();
}

const char* version() {
  return KESM_VERSION;
}

} // namespace kesm
