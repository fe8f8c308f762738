#pragma once

#include <string>

namespace kesm::transport {

/// The live dashboard `kesm serve` answers at `/`: one static page
/// (transport/dashboard/index.html, compiled in; no external resource)
/// that polls `/kesm/status` every second.
const std::string& dashboard_html();

} // namespace kesm::transport
