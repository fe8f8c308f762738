#include <iostream>
#include <map>
#include <memory>

#include "actors/mapping_control.hpp"
#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "codecs/service_config.hpp"
#include "transport/http_client.hpp"
#include "transport/log.hpp"

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
  auto http = std::make_shared<transport::http_client>();
  std::map<std::string, transport::function_target_ptr> targets;
  for (auto& [name, fn] : cfg->functions)
    targets[name] = std::make_shared<transport::http_target>(
      http, fn.url, fn.timeout_seconds);
  actor_config acfg;
  caf::actor_system sys{acfg};
  std::vector<caf::actor> running;
  for (auto& m : cfg->mappings) {
    if (!m.enabled) {
      transport::log(transport::log_level::info, "mapping " + m.uuid,
                     "State - -> Disabled (Enabled is false)");
      continue;
    }
    actors::mapping_options mo;
    mo.config = m;
    mo.target = targets.at(m.function_name);
    mo.pollers = static_cast<size_t>(opts.pollers);
    mo.kafka = cfg->kafka;
    transport::log(transport::log_level::info, "mapping " + m.uuid,
                   "topic " + m.topic + " -> function " + m.function_name
                     + " (" + mo.target->describe() + "), group "
                     + m.consumer_group_id);
    running.push_back(actors::spawn_mapping(sys, std::move(mo)));
  }
  transport::log(transport::log_level::info, "serve",
                 std::to_string(running.size())
                   + " mapping(s) running; SIGINT/SIGTERM to stop");
  while (!wait_for_signal(std::chrono::milliseconds(1000))) {
    // serving
  }
  transport::log(transport::log_level::info, "serve",
                 "stopping: finishing in-flight batches, committing offsets");
  actors::stop_mappings(sys, running);
  transport::log(transport::log_level::info, "serve", "stopped");
  return 0;
}

} // namespace kesm::cli
