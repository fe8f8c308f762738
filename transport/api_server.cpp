#include "transport/api_server.hpp"

#include <httplib.h>

#include "codecs/mapping_config.hpp"

namespace kesm::transport {

struct api_server::impl {
  httplib::Server server;
  handler fn;
};

api_server::api_server(handler h) : impl_(std::make_unique<impl>()) {
  impl_->fn = std::move(h);
  auto& srv = impl_->server;
  srv.set_payload_max_length(1 << 20);
  srv.set_tcp_nodelay(true);
  auto serve = [this](const httplib::Request& req, httplib::Response& res) {
    api_request r;
    r.method = req.method;
    r.path = req.path;
    for (auto& [k, v] : req.params)
      r.query[k] = v;
    r.body = req.body;
    auto reply = impl_->fn(r);
    res.status = reply.status;
    // As Lambda does: SDKs log it with every call and error.
    res.set_header("x-amzn-RequestId", codecs::make_uuid());
    if (!reply.error_type.empty())
      res.set_header("x-amzn-ErrorType", reply.error_type);
    res.set_content(reply.body, reply.content_type.c_str());
  };
  srv.Get(".*", serve);
  srv.Post(".*", serve);
  srv.Put(".*", serve);
  srv.Delete(".*", serve);
  srv.Patch(".*", serve);
  srv.set_exception_handler(
    [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      res.status = 500;
      res.set_header("x-amzn-ErrorType", "ServiceException");
      res.set_content("{\"Type\":\"Service\",\"message\":\"internal error\"}",
                      "application/json");
    });
}

api_server::~api_server() {
  impl_->server.stop();
  if (thread_.joinable())
    thread_.join();
}

codecs::expected<int> api_server::start(const std::string& host, int port) {
  auto& srv = impl_->server;
  int bound = port == 0 ? srv.bind_to_any_port(host)
                        : (srv.bind_to_port(host, port) ? port : -1);
  if (bound <= 0)
    return codecs::error{codecs::errc::invalid_parameter,
                         "cannot listen on " + host + ":" + std::to_string(port)
                           + " (in use, or not an address of this machine);"
                             " pick another with --api HOST:PORT"};
  thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
  while (!srv.is_running())
    std::this_thread::yield();
  return bound;
}

} // namespace kesm::transport
