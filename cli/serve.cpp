#include <iostream>
#include <map>
#include <memory>

#include "actors/mapping_control.hpp"
#include "actors/mapping_registry.hpp"
#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "codecs/service_config.hpp"
#include "transport/http_client.hpp"
#include "transport/api_server.hpp"
#include "transport/log.hpp"
#include "transport/mapping_store.hpp"
#include "transport/metrics.hpp"

namespace kesm::cli {

int run_serve(const serve_options& opts) {
  std::string text, err;
  if (!read_file(opts.config_path, text, err)) {
    std::cerr << "kesm serve: " << err
              << "; pass --config PATH (see README: Configuration)\n";
    return 2;
  }
  auto cfg = codecs::parse_service_config(text, now_ms());
  if (!cfg) {
    std::cerr << "kesm serve: " << opts.config_path << ": "
              << cfg.err().message << "\n";
    return 2;
  }
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
  auto http = std::make_shared<transport::http_client>();
  actors::registry_options ro;
  for (auto& [name, fn] : cfg->functions)
    ro.functions[name] = std::make_shared<transport::http_target>(
      http, fn.url, fn.timeout_seconds);
  ro.clusters = cfg->clusters;
  ro.arns = codecs::arn_context{opts.region, opts.account};
  ro.config_mappings = cfg->mappings;
  ro.store = std::make_shared<transport::mapping_store>(std::move(*store));
  ro.defaults.pollers = static_cast<size_t>(opts.pollers);
  ro.defaults.kafka = cfg->kafka;
  auto metrics = std::make_shared<transport::metrics>();
  ro.defaults.metrics = metrics;
  actor_config acfg;
  caf::actor_system sys{acfg};
  auto registry = actors::spawn_registry(sys, std::move(ro));
  transport::api_server api([&](const transport::api_request& req) {
    if (req.path == "/metrics") // thread-safe; no need to ask the registry
      return transport::api_reply{200, metrics->render(), "",
                                  "text/plain; version=0.0.4"};
    return actors::call_registry(sys, registry, req);
  });
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
                 "running; SIGINT/SIGTERM to stop");
  while (!wait_for_signal(std::chrono::milliseconds(1000))) {
    // serving
  }
  transport::log(transport::log_level::info, "serve",
                 "stopping: finishing in-flight batches, committing offsets");
  actors::stop_mappings(sys, {registry});
  transport::log(transport::log_level::info, "serve", "stopped");
  return 0;
}

} // namespace kesm::cli
