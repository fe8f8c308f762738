#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "transport/embedded_broker.hpp"

namespace kesm::cli {

int run_dev_broker(const dev_broker_options& opts) {
  auto broker = transport::embedded_broker::start(opts.brokers);
  if (!broker) {
    std::cerr << "kesm dev-broker: " << broker.err().message << "\n";
    return 1;
  }
  for (const auto& spec : opts.topics) {
    auto colon = spec.rfind(':');
    int partitions = 1;
    std::string name = spec;
    if (colon != std::string::npos) {
      name = spec.substr(0, colon);
      try {
        partitions = std::stoi(spec.substr(colon + 1));
      } catch (...) {
        partitions = 0;
      }
    }
    if (name.empty() || partitions < 1) {
      std::cerr << "kesm dev-broker: bad --topic " << spec
                << "; use name:partitions, e.g. orders:8\n";
      return 2;
    }
    if (auto ok = broker->create_topic(name, partitions); !ok) {
      std::cerr << "kesm dev-broker: " << ok.err().message << "\n";
      return 1;
    }
  }
  std::cout << broker->bootstrap() << std::endl;
  std::cerr << "kesm dev-broker: " << opts.brokers
            << " broker(s) serving; Ctrl-C to stop\n";
  while (!wait_for_signal(std::chrono::milliseconds(1000))) {
    // keep serving
  }
  std::cerr << "kesm dev-broker: stopped\n";
  return 0;
}

} // namespace kesm::cli

#include "transport/producer.hpp"

namespace kesm::cli {

int run_produce(const produce_options& opts) {
  auto prod = transport::producer::connect(opts.bootstrap);
  if (!prod) {
    std::cerr << "kesm produce: " << prod.err().message << "\n";
    return 1;
  }
  transport::outgoing_record r;
  r.topic = opts.topic;
  r.partition = opts.partition;
  r.headers = {{"source", "kesm-produce"}};
  for (int i = 0; i < opts.count; ++i) {
    r.key = "k" + std::to_string(i);
    r.value = opts.value + "-" + std::to_string(i);
    if (auto ok = prod->produce(r); !ok) {
      std::cerr << "kesm produce: " << ok.err().message << "\n";
      return 1;
    }
  }
  if (auto ok = prod->flush(30000); !ok) {
    std::cerr << "kesm produce: " << ok.err().message
              << "; is the broker at " << opts.bootstrap << " up?\n";
    return 1;
  }
  std::cout << opts.count << " records produced to " << opts.topic << "\n";
  return 0;
}

} // namespace kesm::cli
