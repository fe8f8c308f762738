#include "transport/function_server.hpp"

#include <httplib.h>

namespace kesm::transport {

struct function_server::impl {
  httplib::Server server;
  handler fn;
};

function_server::function_server(handler h) : impl_(std::make_unique<impl>()) {
  impl_->fn = std::move(h);
  impl_->server.set_keep_alive_max_count(1000000);
  // Without it, the answer's headers and body meet Nagle and delayed ACKs:
  // 40 ms per call.
  impl_->server.set_tcp_nodelay(true);
  // Each kept-alive connection holds a pool thread: room for many pollers
  // (5 connections each) rather than httplib's default of 8 threads.
  impl_->server.new_task_queue = [] { return new httplib::ThreadPool(64); };
  impl_->server.set_keep_alive_timeout(60);
  impl_->server.set_payload_max_length(64 * 1024 * 1024);
  impl_->server.Post(".*", [this](const httplib::Request& req,
                                  httplib::Response& res) {
    auto reply = impl_->fn(req.body);
    res.status = reply.status;
    if (reply.function_error)
      res.set_header("X-Amz-Function-Error", "Unhandled");
    res.set_content(reply.body, "application/json");
  });
}

function_server::~function_server() {
  impl_->server.stop();
  if (thread_.joinable())
    thread_.join();
}

bool function_server::start() {
  port_ = impl_->server.bind_to_any_port("127.0.0.1");
  if (port_ <= 0)
    return false;
  thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
  while (!impl_->server.is_running())
    std::this_thread::yield();
  return true;
}

std::string function_server::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/";
}

} // namespace kesm::transport
