// A program embedding kesm: one in-process handler, one mapping added from
// code, no config file. Built against the *installed* kesm package
// (find_package(kesm CONFIG)); see docs/embedding.md.
//
//   embed-example BOOTSTRAP TOPIC COUNT [API_PORT]
//
// Consumes TOPIC from the start until COUNT records went through the
// handler and their offsets were stored for commit, then stops cleanly.

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include <kesm/runtime.hpp>

namespace {

/// Records in one Lambda event: each carries exactly one "offset" field.
size_t count_records(const std::string& event) {
  size_t n = 0;
  for (auto at = event.find("\"offset\":"); at != std::string::npos;
       at = event.find("\"offset\":", at + 1))
    ++n;
  return n;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: embed-example BOOTSTRAP TOPIC COUNT [API_PORT]\n";
    return 2;
  }
  const std::string bootstrap = argv[1], topic = argv[2];
  const unsigned long long want = std::strtoull(argv[3], nullptr, 10);
  std::atomic<unsigned long long> seen{0};
  try {
    kesm::runtime_options opts;
    if (argc > 4)
      opts.api_port = std::atoi(argv[4]); // 0: any free port
    kesm::runtime rt(opts);
    rt.add_handler("count-records", [&](const std::string& event) {
      seen += count_records(event);
      return std::string{}; // success: the whole batch is done
    });
    rt.start();
    auto uuid = rt.add_mapping(R"({
      "FunctionName": "count-records",
      "Topics": [")" + topic + R"("],
      "StartingPosition": "TRIM_HORIZON",
      "BatchSize": 500,
      "SelfManagedEventSource": {
        "Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [")" + bootstrap + R"("]}}
    })");
    std::cout << "kesm " << kesm::version() << ": mapping " << uuid;
    if (rt.api_port() >= 0)
      std::cout << ", dashboard on http://127.0.0.1:" << rt.api_port() << "/";
    std::cout << std::endl;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    kesm::runtime::progress p;
    while (std::chrono::steady_clock::now() < deadline) {
      p = rt.progress_of(uuid);
      if (seen >= want && p.completed >= want)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    rt.stop(); // commits the stored offsets
    std::cout << "handled " << seen << " records, completed " << p.completed
              << ", state " << p.state << ", last result "
              << p.last_processing_result << std::endl;
    return seen >= want && p.completed >= want ? 0 : 1;
  } catch (const kesm::error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
