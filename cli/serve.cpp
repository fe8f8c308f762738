#include <cstdlib>
#include <sys/prctl.h>
#include <iostream>
#include <mutex>
#include <map>
#include <memory>
#include <optional>

#include "actors/capacity_pool.hpp"
#include "actors/mapping_control.hpp"
#include "actors/mapping_registry.hpp"
#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "codecs/service_config.hpp"
#include "transport/http_client.hpp"
#include "transport/kafka.hpp"
#include "transport/api_server.hpp"
#include "transport/log.hpp"
#include "transport/mapping_store.hpp"
#include "transport/metrics.hpp"
#include "transport/aws/credentials.hpp"
#include "transport/aws/msk_iam.hpp"
#include "transport/aws/secrets_manager.hpp"
#include "transport/aws/sigv4.hpp"
#include "transport/secrets.hpp"

namespace kesm::cli {

namespace {

/// The process's AWS credentials, resolved the first time a function needs
/// them and refreshed in the background from then on.
codecs::expected<std::shared_ptr<transport::aws::credential_provider>>
aws_credentials() {
  static std::mutex mtx;
  static std::shared_ptr<transport::aws::credential_provider> shared;
  std::lock_guard<std::mutex> guard{mtx};
  if (!shared) {
    auto p = std::make_shared<transport::aws::credential_provider>();
    if (auto ok = p->start(); !ok)
      return ok.err();
    shared = std::move(p);
  }
  return shared;
}

std::shared_ptr<transport::secret_source>
make_secrets(const codecs::service_config& cfg) {
  std::shared_ptr<transport::secret_source> local
    = std::make_shared<transport::config_secrets>(cfg.secrets, cfg.secrets_dir,
                                                  cfg.secrets_env);
  if (!cfg.secrets_manager)
    return local;
  return std::make_shared<transport::aws::secrets_manager_source>(
    std::move(local), aws_credentials);
}

/// Reads and checks the config file: JSON, mappings, Kafka properties.
codecs::expected<codecs::service_config> load_config(const std::string& path) {
  std::string text, err;
  if (!read_file(path, text, err))
    return codecs::error{codecs::errc::invalid_parameter,
                         err + "; pass --config PATH (see README:"
                               " Configuration)"};
  auto cfg = codecs::parse_service_config(text, now_ms());
  if (!cfg)
    return codecs::error{cfg.err().code, path + ": " + cfg.err().message};
  if (auto ok = transport::check_consumer_props(cfg->kafka); !ok)
    return codecs::error{ok.err().code,
                         path + ": config: " + ok.err().message};
  // Every secret a config mapping names must be there now, not at 3 a.m.
  auto secrets = make_secrets(*cfg);
  for (size_t i = 0; i < cfg->mappings.size(); ++i) {
    auto sec = transport::resolve_security(cfg->mappings[i], *secrets,
                                           cfg->kafka);
    if (!sec)
      return codecs::error{sec.err().code, path + ": config: mappings["
                                             + std::to_string(i)
                                             + "]: " + sec.err().message};
  }
  return cfg;
}

/// The target of one configured function; the error names the function.
codecs::expected<transport::function_target_ptr>
make_function(const codecs::function_config& fn,
              const std::shared_ptr<transport::http_client>& http) {
  auto fail = [&](const std::string& why) {
    return codecs::error{codecs::errc::invalid_parameter,
                         "config: functions." + fn.name + ": " + why};
  };
  transport::http_target_options o;
  o.ca_file = fn.ca_file;
  for (auto& [k, v] : fn.headers)
    o.headers.emplace_back(k, v);
  std::string url = fn.url;
  if (!fn.lambda.empty() || !fn.sign.empty()) {
    o.service = fn.lambda.empty() ? fn.sign : "lambda";
    o.region = fn.region;
    // An ARN names its region: arn:aws:lambda:REGION:ACCOUNT:function:NAME
    if (o.region.empty())
      o.region = transport::aws::arn_region(fn.lambda);
    if (o.region.empty())
      o.region = transport::aws::resolve_region();
    if (o.region.empty())
      return fail("no AWS region; set \"region\" or AWS_REGION");
    auto creds = aws_credentials();
    if (!creds)
      return fail(creds.err().message);
    o.credentials = *creds;
  }
  if (!fn.lambda.empty()) {
    auto endpoint = fn.endpoint.empty()
                      ? transport::aws::endpoint_for("LAMBDA", "lambda",
                                                     o.region)
                      : fn.endpoint;
    while (!endpoint.empty() && endpoint.back() == '/')
      endpoint.pop_back();
    url = endpoint + "/2015-03-31/functions/"
          + transport::aws::uri_encode(fn.lambda, false) + "/invocations";
    o.lambda_api = true;
  }
  transport::function_target_ptr target
    = std::make_shared<transport::http_target>(http, url, fn.timeout_seconds,
                                               std::move(o));
  return target;
}

codecs::expected<std::map<std::string, transport::function_target_ptr>>
make_functions(const codecs::service_config& cfg,
               const std::shared_ptr<transport::http_client>& http) {
  std::map<std::string, transport::function_target_ptr> out;
  for (auto& [name, fn] : cfg.functions) {
    auto t = make_function(fn, http);
    if (!t)
      return t.err();
    out[name] = std::move(*t);
  }
  return out;
}

/// SIGHUP: reads the config file again and hands its functions and
/// mappings to the registry. A bad file changes nothing.
void reload_config(caf::actor_system& sys, const caf::actor& registry,
                   const serve_options& opts,
                   const std::shared_ptr<transport::http_client>& http,
                   const transport::kafka_props& running_kafka) {
  auto cfg = load_config(opts.config_path);
  if (!cfg) {
    transport::log(transport::log_level::error, "serve",
                   "SIGHUP: not reloaded, the running configuration stays: "
                     + cfg.err().message);
    return;
  }
  if (cfg->kafka != running_kafka)
    transport::log(transport::log_level::warning, "serve",
                   "SIGHUP: \"kafka\" properties changed; they apply after"
                   " a restart of kesm");
  auto functions = make_functions(*cfg, http);
  if (!functions) {
    transport::log(transport::log_level::warning, "serve",
                   "SIGHUP: " + opts.config_path + " not reloaded: "
                     + functions.err().message);
    return;
  }
  actors::registry_reload next{std::move(*functions), cfg->clusters,
                               cfg->allowed_clusters, cfg->mappings,
                               make_secrets(*cfg)};
  caf::scoped_actor self{sys};
  self->request(registry, std::chrono::seconds(30), actors::reload_atom_v,
                std::move(next))
    .receive(
      [&](const std::string& summary) {
        transport::log(transport::log_level::info, "serve",
                       "SIGHUP: reloaded " + opts.config_path + ": "
                         + summary);
      },
      [&](const caf::error& e) {
        transport::log(transport::log_level::error, "serve",
                       "SIGHUP: reload not confirmed: " + to_string(e));
      });
}

/// A process that holds secrets writes no core dump (its memory holds
/// passwords and keys) unless KESM_ALLOW_CORE_DUMPS=1 says otherwise.
void guard_secrets_in_memory(const codecs::service_config& cfg) {
  bool secrets = !cfg.secrets.empty() || !cfg.secrets_dir.empty()
                 || cfg.secrets_env || cfg.secrets_manager || cfg.msk_iam
                 || !cfg.api_access_keys.empty();
  for (auto& fn : cfg.functions)
    secrets = secrets || !fn.second.lambda.empty() || !fn.second.sign.empty();
  if (!secrets)
    return;
  if (const char* v = std::getenv("KESM_ALLOW_CORE_DUMPS"); v && *v == '1')
    return;
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  transport::log(transport::log_level::info, "serve",
                 "holding secrets: core dumps off (KESM_ALLOW_CORE_DUMPS=1"
                 " keeps them)");
}

} // namespace

int run_validate(const validate_options& opts) {
  auto cfg = load_config(opts.config_path);
  if (!cfg) {
    std::cerr << "kesm validate: " << cfg.err().message << "\n";
    return 2;
  }
  auto http = std::make_shared<transport::http_client>();
  auto functions = make_functions(*cfg, http);
  if (!functions) {
    std::cerr << "kesm validate: " << opts.config_path << ": "
              << functions.err().message << "\n";
    return 2;
  }
  std::cout << "kesm validate: " << opts.config_path << ": OK ("
            << cfg->functions.size() << " function(s), "
            << cfg->mappings.size() << " mapping(s), "
            << cfg->clusters.size() << " cluster(s))" << std::endl;
  return 0;
}

int run_serve(const serve_options& opts) {
  if (opts.log_format == "json")
    transport::set_log_format(transport::log_format::json);
  auto cfg = load_config(opts.config_path);
  if (!cfg) {
    std::cerr << "kesm serve: " << cfg.err().message << "\n";
    return 2;
  }
  guard_secrets_in_memory(*cfg);
  if (opts.store.rfind("sqlite:", 0) != 0 || opts.store.size() <= 7) {
    std::cerr << "kesm serve: --store " << opts.store
              << ": use sqlite:PATH, e.g. sqlite:/var/lib/kesm/mappings.db\n";
    return 2;
  }
  auto colon = opts.api.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    try {
      port = std::stoi(opts.api.substr(colon + 1));
    } catch (...) {
      port = -1;
    }
  }
  if (colon == std::string::npos || colon == 0 || port < 0 || port > 65535) {
    std::cerr << "kesm serve: --api " << opts.api
              << ": use HOST:PORT, e.g. 127.0.0.1:9000\n";
    return 2;
  }
  auto store = transport::mapping_store::open(opts.store.substr(7));
  if (!store) {
    std::cerr << "kesm serve: " << store.err().message << "\n";
    return 2;
  }
  std::optional<stop_watchdog> watchdog; // destroyed last
  auto http = std::make_shared<transport::http_client>();
  actors::registry_options ro;
  auto functions = make_functions(*cfg, http);
  if (!functions) {
    std::cerr << "kesm serve: " << opts.config_path << ": "
              << functions.err().message << "\n";
    return 2;
  }
  ro.functions = std::move(*functions);
  if (cfg->msk_iam || cfg->msk_discovery) {
    auto creds = aws_credentials();
    if (!creds) {
      std::cerr << "kesm serve: " << opts.config_path << ": msk_iam / "
                << "msk_discovery need AWS credentials: "
                << creds.err().message << "\n";
      return 2;
    }
    transport::aws::set_msk_iam_credentials(*creds);
    ro.msk_iam = cfg->msk_iam;
    if (cfg->msk_discovery)
      ro.discover_cluster = [provider = *creds](const std::string& arn,
                                                const std::string& auth) {
        return transport::aws::bootstrap_brokers(arn, auth, *provider);
      };
  }
  ro.aws_credentials = aws_credentials;
  ro.clusters = cfg->clusters;
  ro.allowed_clusters = cfg->allowed_clusters;
  ro.secrets = make_secrets(*cfg);
  ro.arns = codecs::arn_context{opts.region, opts.account};
  ro.config_mappings = cfg->mappings;
  ro.store = std::make_shared<transport::mapping_store>(std::move(*store));
  ro.defaults.pollers = static_cast<size_t>(opts.pollers);
  ro.defaults.kafka = cfg->kafka;
  ro.defaults.shutdown_grace = std::chrono::seconds(opts.shutdown_grace);
  ro.defaults.max_pollers = static_cast<uint32_t>(opts.max_pollers);
  ro.defaults.capacity = std::make_shared<actors::capacity_pool>(
    static_cast<uint32_t>(opts.max_pollers));
  ro.defaults.scaling_interval = std::chrono::seconds(opts.scaling_interval);
  auto metrics = std::make_shared<transport::metrics>();
  ro.defaults.metrics = metrics;
  actor_config acfg;
  caf::actor_system sys{acfg};
  auto registry = actors::spawn_registry(sys, std::move(ro));
  transport::api_guard guard;
  guard.allowed_origins = opts.allow_origins;
  guard.token = opts.api_token;
  if (guard.token.empty())
    if (const char* env = std::getenv("KESM_API_TOKEN"))
      guard.token = env;
  if (opts.api_auth == "sigv4") {
    if (cfg->api_access_keys.empty()) {
      std::cerr << "kesm serve: --api-auth sigv4 needs \"api_access_keys\""
                   " in the config file (access key id -> secret key)\n";
      actors::stop_mappings(sys, {registry});
      return 2;
    }
    guard.sigv4_keys = cfg->api_access_keys;
  }
  transport::api_server api(actors::api_handler(sys, registry, metrics), guard);
  auto bound = api.start(opts.api.substr(0, colon), port);
  if (!bound) {
    std::cerr << "kesm serve: " << bound.err().message << "\n";
    actors::stop_mappings(sys, {registry});
    return 2;
  }
  std::cout << "kesm serve: API on http://" << opts.api.substr(0, colon) << ":"
            << *bound << "/2015-03-31/event-source-mappings/ ("
            << cfg->mappings.size() << " mapping(s) from " << opts.config_path
            << ", store " << opts.store << ")" << std::endl;
  transport::log(transport::log_level::info, "serve",
                 "running; SIGHUP reloads " + opts.config_path
                   + ", SIGINT/SIGTERM stops");
  for (;;) {
    int sig = wait_for_signal(std::chrono::milliseconds(1000));
    if (sig == SIGHUP) {
      reload_config(sys, registry, opts, http, cfg->kafka);
      continue;
    }
    if (sig != 0)
      break;
  }
  transport::log(transport::log_level::info, "serve",
                 "stopping: finishing in-flight batches (up to "
                   + std::to_string(opts.shutdown_grace)
                   + " s), committing offsets; a second signal exits now");
  // Covers the rest, destructors included: grace + group leave + slack.
  watchdog.emplace(std::chrono::seconds(opts.shutdown_grace + 15));
  actors::stop_mappings(sys, {registry});
  transport::wait_destroyed(5000);
  transport::log(transport::log_level::info, "serve", "stopped");
  return 0;
}

} // namespace kesm::cli
