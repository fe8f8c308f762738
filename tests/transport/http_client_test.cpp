#include "transport/http_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include <fstream>

#include <httplib.h>

#include "transport/function_server.hpp"
#include "transport/kafka_front/pki.hpp"
#include "transport/inprocess_target.hpp"

using namespace kesm::transport;

namespace {

/// Calls `target` once and waits for the result.
invocation_result call(function_target& target, const std::string& body) {
  std::promise<invocation_result> p;
  auto f = p.get_future();
  target.invoke(std::make_shared<const std::string>(body),
                [&p](invocation_result r) { p.set_value(std::move(r)); });
  return f.get();
}

} // namespace

TEST(http_client, posts_the_event_and_reads_the_answer) {
  std::string seen;
  function_server fn([&](const std::string& body) {
    seen = body;
    return function_reply{200, "{\"batchItemFailures\":[]}", false};
  });
  ASSERT_TRUE(fn.start());
  auto client = std::make_shared<http_client>();
  http_target target(client, fn.url(), 5);
  auto r = call(target, "{\"records\":{}}");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.function_error);
  EXPECT_EQ(r.body, "{\"batchItemFailures\":[]}");
  EXPECT_EQ(seen, "{\"records\":{}}");
}

TEST(http_client, reuses_kept_alive_connections) {
  function_server fn([](const std::string&) { return function_reply{}; });
  ASSERT_TRUE(fn.start());
  auto client = std::make_shared<http_client>();
  http_target target(client, fn.url(), 5);
  int opened = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = call(target, std::string(2000, 'x')); // over curl's 1 KB Expect
    ASSERT_EQ(r.status, 200);
    opened += r.new_connections;
  }
  EXPECT_EQ(opened, 1) << "each call opened its own connection";
}

TEST(http_client, reports_function_errors_throttles_and_statuses) {
  std::atomic<int> n{0};
  function_server fn([&](const std::string&) {
    switch (n++) {
      case 0:
        return function_reply{200, "{}", true};
      case 1:
        return function_reply{429, "slow down", false};
      default:
        return function_reply{502, "bad gateway", false};
    }
  });
  ASSERT_TRUE(fn.start());
  auto client = std::make_shared<http_client>();
  http_target target(client, fn.url(), 5);
  auto a = call(target, "{}");
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(a.function_error);
  EXPECT_EQ(call(target, "{}").status, 429);
  EXPECT_EQ(call(target, "{}").status, 502);
}

TEST(http_client, times_out_a_slow_function) {
  std::promise<void> release;
  auto released = release.get_future().share();
  function_server fn([released](const std::string&) {
    released.wait_for(std::chrono::seconds(5));
    return function_reply{};
  });
  ASSERT_TRUE(fn.start());
  auto client = std::make_shared<http_client>();
  http_target target(client, fn.url(), 1);
  auto start = std::chrono::steady_clock::now();
  auto r = call(target, "{}");
  auto took = std::chrono::steady_clock::now() - start;
  release.set_value();
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(r.timed_out);
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(4));
}

TEST(http_client, reports_an_unreachable_function) {
  auto client = std::make_shared<http_client>();
  http_target target(client, "http://127.0.0.1:9/", 2);
  auto r = call(target, "{}");
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.error.empty());
}

TEST(inprocess_target, runs_the_handler_and_turns_exceptions_into_errors) {
  std::atomic<int> n{0};
  inprocess_target target("fn", [&](const std::string& event) {
    if (n++ > 0)
      throw std::runtime_error("boom");
    invocation_result r;
    r.status = 200;
    r.body = event;
    return r;
  });
  auto ok = call(target, "hello");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "hello");
  auto bad = call(target, "x");
  EXPECT_TRUE(bad.function_error);
  EXPECT_EQ(bad.body, "boom");
}

TEST(http_client, cuts_an_answer_past_the_6_mb_response_limit) {
  function_server fn([](const std::string&) {
    return function_reply{200, std::string(20 << 20, 'x'), false};
  });
  function_server small([](const std::string&) { return function_reply{}; });
  ASSERT_TRUE(fn.start());
  ASSERT_TRUE(small.start());
  // Declared after the servers: its kept-alive connections close first.
  auto client = std::make_shared<http_client>();
  http_target target(client, fn.url(), 30);
  auto r = call(target, "{}");
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(r.answer_too_large);
  EXPECT_TRUE(r.body.empty()) << r.body.size() << " bytes kept";
  EXPECT_NE(r.error.find("response limit"), std::string::npos) << r.error;
  // The connection was dropped mid-answer; the next call still works.
  http_target next(client, small.url(), 5);
  EXPECT_EQ(call(next, "{}").status, 200);
}

TEST(http_target, trusts_its_ca_file_and_sends_its_headers) {
  auto pki = kafka_front::throwaway_pki::make();
  ASSERT_TRUE(pki);
  auto dir = ::testing::TempDir();
  auto cert = dir + "fn-server.pem", key = dir + "fn-server-key.pem",
       ca = dir + "fn-ca.pem";
  std::ofstream(cert) << pki->server.certificate;
  std::ofstream(key) << pki->server.private_key;
  std::ofstream(ca) << pki->ca.certificate;
  httplib::SSLServer srv(cert.c_str(), key.c_str());
  std::atomic<int> tenant_ok{0};
  srv.Post("/fn", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("X-Tenant") == "t1")
      ++tenant_ok;
    res.set_content("{}", "application/json");
  });
  int port = srv.bind_to_any_port("127.0.0.1");
  std::thread t([&] { srv.listen_after_bind(); });
  while (!srv.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto url = "https://127.0.0.1:" + std::to_string(port) + "/fn";
  auto client = std::make_shared<http_client>();
  http_target_options o;
  o.headers = {{"X-Tenant", "t1"}};
  o.ca_file = ca;
  http_target trusted(client, url, 5, o);
  EXPECT_EQ(call(trusted, "{}").status, 200);
  EXPECT_EQ(tenant_ok.load(), 1);
  // Without the CA file the system store does not know the throwaway CA.
  http_target untrusted(client, url, 5);
  auto r = call(untrusted, "{}");
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
  srv.stop();
  t.join();
}
