#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

#include "transport/schema_registry.hpp"

namespace kesm::transport {
namespace {

using state = schema_lookup::state;

/// A Confluent-shaped registry: ids 1..100 are Avro strings, others 404;
/// `down` answers 503. Counts fetches per id.
struct fake_registry {
  httplib::Server srv;
  int port = 0;
  std::thread thread;
  std::atomic<bool> down{false};
  std::mutex mtx;
  std::map<int, int> fetches;

  fake_registry() {
    srv.Get(R"(/schemas/ids/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      int id = std::stoi(req.matches[1]);
      {
        std::lock_guard<std::mutex> g{mtx};
        ++fetches[id];
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (down) {
        res.status = 503;
        return;
      }
      if (id > 100) {
        res.status = 404;
        res.set_content(R"({"error_code":40403,"message":"Schema not found"})", "application/json");
        return;
      }
      res.set_content(R"({"schema":"\"string\""})", "application/json");
    });
    port = srv.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { srv.listen_after_bind(); });
    while (!srv.is_running())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~fake_registry() {
    srv.stop();
    thread.join();
  }
  int count(int id) {
    std::lock_guard<std::mutex> g{mtx};
    return fetches[id];
  }
};

/// Looks `id` up, waiting for a pending fetch to end.
schema_lookup lookup(schema_registry_client& c, const std::string& id) {
  auto done = std::make_shared<std::promise<void>>();
  auto f = done->get_future();
  auto r = c.find(id, [done] { done->set_value(); });
  if (r.st != state::pending)
    return r;
  EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  return c.find(id, nullptr);
}

registry_endpoint endpoint(const fake_registry& r, size_t capacity) {
  registry_endpoint ep;
  ep.uri = "http://127.0.0.1:" + std::to_string(r.port);
  ep.cache_capacity = capacity;
  return ep;
}

TEST(schema_registry_client, caches_a_bounded_number_of_schemas) {
  fake_registry reg;
  schema_registry_client c(endpoint(reg, 3));
  auto r = lookup(c, "1");
  ASSERT_EQ(r.st, state::ready) << r.error;
  ASSERT_TRUE(r.schema->avro);
  EXPECT_EQ(r.schema->data_format, "AVRO");
  EXPECT_EQ(std::string(r.schema->meta.schema_id), "1");
  EXPECT_EQ(lookup(c, "1").st, state::ready);
  EXPECT_EQ(reg.count(1), 1); // cached
  for (auto id : {"2", "3", "4", "5"})
    EXPECT_EQ(lookup(c, id).st, state::ready);
  EXPECT_EQ(lookup(c, "1").st, state::ready);
  EXPECT_EQ(reg.count(1), 2); // evicted (capacity 3), fetched again
  EXPECT_EQ(lookup(c, "5").st, state::ready);
  EXPECT_EQ(reg.count(5), 1); // recently used: kept
}

TEST(schema_registry_client, one_fetch_for_many_waiting_callers) {
  fake_registry reg;
  schema_registry_client c(endpoint(reg, 10));
  std::atomic<int> woken{0}, pending{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 16; ++i)
    callers.emplace_back([&] {
      if (c.find("9", [&] { ++woken; }).st == state::pending)
        ++pending;
    });
  for (auto& t : callers)
    t.join();
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (woken < pending && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(woken.load(), pending.load());
  EXPECT_EQ(c.find("9", nullptr).st, state::ready);
  EXPECT_EQ(reg.count(9), 1);
}

TEST(schema_registry_client, unknown_ids_are_missing_and_not_asked_again_at_once) {
  fake_registry reg;
  schema_registry_client c(endpoint(reg, 10));
  auto r = lookup(c, "404");
  ASSERT_EQ(r.st, state::missing);
  EXPECT_NE(r.error.find("schema id 404 is not in the schema registry"), std::string::npos) << r.error;
  EXPECT_EQ(c.find("404", nullptr).st, state::missing);
  EXPECT_EQ(reg.count(404), 1);
}

TEST(schema_registry_client, a_registry_down_is_unavailable_then_asked_again) {
  fake_registry reg;
  reg.down = true;
  schema_registry_client c(endpoint(reg, 10));
  auto r = lookup(c, "7");
  ASSERT_EQ(r.st, state::unavailable);
  EXPECT_NE(r.error.find("HTTP 503"), std::string::npos) << r.error;
  EXPECT_EQ(c.find("7", nullptr).st, state::unavailable); // backing off
  EXPECT_EQ(reg.count(7), 1);
  reg.down = false;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(lookup(c, "7").st, state::ready);
  EXPECT_EQ(reg.count(7), 2);
}

TEST(schema_registry_client, an_unreachable_registry_is_unavailable) {
  registry_endpoint ep;
  ep.uri = "http://127.0.0.1:1";
  schema_registry_client c(ep);
  auto r = lookup(c, "1");
  EXPECT_EQ(r.st, state::unavailable);
  EXPECT_NE(r.error.find("unreachable"), std::string::npos) << r.error;
}

TEST(schema_registry_client, destroying_it_during_a_fetch_does_not_wait) {
  fake_registry reg;
  auto start = std::chrono::steady_clock::now();
  {
    schema_registry_client c(endpoint(reg, 10));
    c.find("3", [] { ADD_FAILURE() << "a callback after the client is gone"; });
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(15));
  std::this_thread::sleep_for(std::chrono::milliseconds(100)); // the fetch ends
}

} // namespace
} // namespace kesm::transport
