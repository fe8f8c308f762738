#pragma once

#include <cerrno>
#include <string>

#include <httplib.h>
#include <sys/socket.h>

#include "transport/sockets.hpp"

namespace kesm::transport {

/// cpp-httplib's stream over a connected socket, for the servers that run
/// their own connection loop (`api_server`, `function_server`): writes and
/// addresses here, reads and waits in each server's subclass.
class socket_stream : public httplib::Stream {
public:
  explicit socket_stream(int sock) : sock_(sock) {
    // nop
  }

  ssize_t write(const char* ptr, size_t size) override {
    ssize_t n;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip_and_port(sock_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip_and_port(sock_, false, ip, port);
  }
  int socket() const override {
    return sock_;
  }

protected:
  int sock_;
};

} // namespace kesm::transport
