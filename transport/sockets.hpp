#pragma once

#include <string>

namespace kesm::transport {

/// Waits up to `timeout_ms` for `events` (POLLIN, POLLOUT) on `sock`;
/// true when they, a hang-up or an error came. Retries on EINTR.
bool wait_for(int sock, short events, int timeout_ms);

/// The address of the socket's peer (`peer`) or its own end, as text and
/// port; "?" and -1 when unknown.
void ip_and_port(int sock, bool peer, std::string& ip, int& port);

} // namespace kesm::transport
