#include <atomic>
#include <cstdio>
#include <iostream>
#include <thread>

#include <simdjson.h>
#include <unistd.h>

#include "actors/mapping_control.hpp"
#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "transport/embedded_broker.hpp"
#include "transport/function_server.hpp"
#include "transport/http_client.hpp"
#include "transport/offset_inspector.hpp"
#include "transport/producer.hpp"

namespace kesm::cli {

namespace {

constexpr const char* topic = "demo-events";

/// Counts the records of one event (the demo function's only work).
size_t count_records(const std::string& body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object records;
  if (parser.parse(body).get_object()["records"].get(records))
    return 0;
  size_t n = 0;
  for (auto [key, list] : records)
    n += simdjson::dom::array(list).size();
  return n;
}

/// Produces `rate` records/s until `stop`; counts into `produced`.
void produce_steadily(transport::producer& prod, int rate,
                      std::atomic<bool>& stop,
                      std::atomic<uint64_t>& produced) {
  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  uint64_t sent = 0;
  while (!stop) {
    auto elapsed = std::chrono::duration<double>(clock::now() - start).count();
    auto due = static_cast<uint64_t>(elapsed * rate);
    for (; sent < due && !stop; ++sent) {
      transport::outgoing_record r;
      r.topic = topic;
      r.key = "device-" + std::to_string(sent % 100);
      r.value = "{\"device_ID\":\"device-" + std::to_string(sent % 100)
                + "\",\"seq\":" + std::to_string(sent)
                + ",\"temperature\":" + std::to_string(20 + sent % 10) + "}";
      r.headers = {{"source", "kesm-demo"}};
      if (prod.produce(r))
        ++produced;
    }
    prod.poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  (void) prod.flush(10000);
}

} // namespace

int run_demo(const demo_options& opts) {
  auto broker = transport::embedded_broker::start(1);
  if (!broker) {
    std::cerr << "kesm demo: " << broker.err().message << "\n";
    return 1;
  }
  if (auto ok = broker->create_topic(topic, opts.partitions); !ok) {
    std::cerr << "kesm demo: " << ok.err().message << "\n";
    return 1;
  }
  std::atomic<uint64_t> delivered{0}, invocations{0};
  transport::function_server fn([&](const std::string& body) {
    delivered += count_records(body);
    ++invocations;
    return transport::function_reply{};
  });
  if (!fn.start()) {
    std::cerr << "kesm demo: cannot start the demo function on 127.0.0.1\n";
    return 1;
  }
  auto prod = transport::producer::connect(broker->bootstrap());
  if (!prod) {
    std::cerr << "kesm demo: " << prod.err().message << "\n";
    return 1;
  }
  std::string doc = "{\"FunctionName\":\"demo-fn\",\"Topics\":[\"" + std::string(topic)
                    + "\"],\"StartingPosition\":\"TRIM_HORIZON\",\"BatchSize\":"
                    + std::to_string(opts.batch_size)
                    + ",\"SelfManagedEventSource\":{\"Endpoints\":{"
                      "\"KAFKA_BOOTSTRAP_SERVERS\":[\""
                    + broker->bootstrap().substr(0, broker->bootstrap().find(','))
                    + "\"]}}}";
  auto mapping = codecs::parse_mapping(doc, {}, "", now_ms());
  if (!mapping) {
    std::cerr << "kesm demo: " << mapping.err().message << "\n";
    return 1;
  }
  auto inspector = transport::offset_inspector::connect(
    broker->bootstrap(), mapping->consumer_group_id);
  if (!inspector) {
    std::cerr << "kesm demo: " << inspector.err().message << "\n";
    return 1;
  }
  std::cout << "kesm demo: broker " << broker->bootstrap() << ", topic "
            << topic << " (" << opts.partitions << " partitions), function "
            << fn.url() << ", " << opts.rate << " records/s; Ctrl-C to stop"
            << std::endl;
  actor_config acfg;
  caf::actor_system sys{acfg};
  auto http = std::make_shared<transport::http_client>();
  actors::mapping_options mo;
  mo.config = *mapping;
  mo.target = std::make_shared<transport::http_target>(http, fn.url(), 30);
  auto sup = actors::spawn_mapping(sys, std::move(mo));
  std::atomic<bool> stop_producer{false};
  std::atomic<uint64_t> produced{0};
  std::thread producer_thread([&] {
    produce_steadily(*prod, opts.rate, stop_producer, produced);
  });
  bool tty = isatty(STDOUT_FILENO) != 0;
  uint64_t last_delivered = 0;
  int64_t lag = 0;
  auto print_line = [&](int second) {
    auto offsets = inspector->query(topic, 2000);
    if (offsets) {
      lag = 0;
      for (auto& p : *offsets)
        lag += p.lag();
    }
    auto st = actors::query_status(sys, sup, std::chrono::seconds(2));
    auto d = delivered.load();
    std::printf("%st=%ds produced=%llu delivered=%llu (%llu/s) lag=%lld "
                "invocations=%llu errors=%llu state=%s%s",
                tty ? "\r\033[K" : "", second,
                static_cast<unsigned long long>(produced.load()),
                static_cast<unsigned long long>(d),
                static_cast<unsigned long long>(d - last_delivered),
                static_cast<long long>(lag),
                static_cast<unsigned long long>(invocations.load()),
                static_cast<unsigned long long>(st.function_errors),
                st.state.c_str(), tty ? "" : "\n");
    std::fflush(stdout);
    last_delivered = d;
  };
  int second = 0;
  bool interrupted = false;
  while (opts.seconds == 0 || second < opts.seconds) {
    if (wait_for_signal(std::chrono::milliseconds(1000))) {
      interrupted = true;
      break;
    }
    print_line(++second);
  }
  stop_producer = true;
  producer_thread.join();
  // Let the backlog drain (a few seconds at most) before stopping.
  for (int i = 0; !interrupted && i < 20 && lag > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    print_line(second);
  }
  actors::stop_mappings(sys, {sup});
  auto offsets = inspector->query(topic, 2000);
  int64_t committed_lag = -1;
  if (offsets) {
    committed_lag = 0;
    for (auto& p : *offsets)
      committed_lag += p.lag();
  }
  std::printf("%skesm demo: produced %llu, delivered %llu in %llu "
              "invocations, uncommitted after stop: %lld\n",
              tty ? "\n" : "", static_cast<unsigned long long>(produced.load()),
              static_cast<unsigned long long>(delivered.load()),
              static_cast<unsigned long long>(invocations.load()),
              static_cast<long long>(committed_lag));
  return 0;
}

} // namespace kesm::cli
