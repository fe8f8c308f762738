#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include <simdjson.h>

#include "cli/commands.hpp"
#include "transport/aws/credentials.hpp"
#include "transport/aws/fetch.hpp"
#include "transport/aws/signer.hpp"

namespace kesm::cli {

namespace {

std::string text(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get_string().get(v))
    return {};
  return std::string(v);
}

double num(simdjson::dom::element e, const char* key) {
  double d = 0;
  auto f = e[key];
  if (!f.get_double().get(d))
    return d;
  int64_t i = 0;
  if (!f.get_int64().get(i))
    return static_cast<double>(i);
  uint64_t u = 0;
  if (!f.get_uint64().get(u))
    return static_cast<double>(u);
  return 0;
}

std::string fixed(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

/// Columns padded to their widest cell; numbers right-aligned.
void print_table(const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& right) {
  std::vector<size_t> width(rows.front().size(), 0);
  for (auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  for (auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      std::string pad(width[i] - r[i].size(), ' ');
      line += right[i] ? pad + r[i] : r[i] + (i + 1 < r.size() ? pad : "");
      if (i + 1 < r.size())
        line += "  ";
    }
    std::cout << line << "\n";
  }
}

} // namespace

int run_status(const status_options& opts) {
  auto colon = opts.api.rfind(':');
  if (colon == std::string::npos || colon == 0
      || colon + 1 == opts.api.size()) {
    std::cerr << "kesm status: --api " << opts.api
              << ": use HOST:PORT of a running kesm serve, e.g."
                 " 127.0.0.1:9000\n";
    return 2;
  }
  std::string token = opts.token;
  if (token.empty())
    if (const char* env = std::getenv("KESM_API_TOKEN"))
      token = env;
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty())
    headers.emplace_back("Authorization", "Bearer " + token);
  auto url
      = "http://" + opts.api + "/kesm/status" + (opts.json ? "" : "?history=0");
  if (opts.sigv4) {
    transport::aws::credential_provider creds;
    auto started = creds.start();
    auto now = started ? creds.current()
                       : codecs::expected<transport::aws::credentials>{started.err()};
    if (!now) {
      std::cerr << "kesm status: --sigv4 needs AWS credentials (the keys of"
                   " the server's api_access_keys): "
                << now.err().message << "\n";
      return 2;
    }
    auto region = opts.region.empty() ? transport::aws::resolve_region() : opts.region;
    transport::aws::aws_request req;
    req.method = "GET";
    req.url = url;
    req.headers = headers;
    transport::aws::sign(req, *now, region.empty() ? "us-east-1" : region,
                         "lambda", std::time(nullptr));
    headers = req.headers;
  }
  auto answer = transport::aws::fetch("GET", url, headers, "", 5000);
  if (answer.status == 0) {
    std::cerr << "kesm status: no answer from " << opts.api << ": "
              << answer.error << "; is kesm serve running with --api "
              << opts.api << "?\n";
    return 1;
  }
  if (answer.status == 401 || answer.status == 403) {
    std::cerr << "kesm status: " << opts.api << " refused the request (HTTP "
              << answer.status
              << "); pass its token with --token or KESM_API_TOKEN, or"
                 " sign with --sigv4 (AWS keys of its api_access_keys)\n";
    return 1;
  }
  if (answer.status != 200) {
    std::cerr << "kesm status: " << opts.api << " answered HTTP "
              << answer.status << ": " << answer.body.substr(0, 300) << "\n";
    return 1;
  }
  if (opts.json) {
    std::cout << answer.body << std::endl;
    return 0;
  }
  simdjson::dom::parser parser;
  simdjson::dom::array mappings;
  if (parser.parse(answer.body)["mappings"].get_array().get(mappings)) {
    std::cerr << "kesm status: " << opts.api
              << " answered something that is not kesm's status; is it a"
                 " kesm serve API address?\n";
    return 1;
  }
  std::vector<std::vector<std::string>> rows{
      {"UUID", "FUNCTION", "TOPIC", "STATE", "POLLERS", "LAG", "POLLED/S",
       "INVOKED/S", "FAILED/S", "DLQ/S", "LATENCY MS", "LAST RESULT"}};
  std::vector<bool> right{false, false, false, false, true, true,
                          true,  true,  true,  true,  true, false};
  for (auto m : mappings) {
    auto rates = m["Rates"];
    rows.push_back(
        {text(m, "UUID"), text(m, "FunctionName"), text(m, "Topic"),
         text(m, "State"), fixed(num(m, "Pollers"), 0),
         fixed(num(m, "OffsetLag"), 0),
         fixed(num(rates.value_unsafe(), "PolledPerSecond"), 0),
         fixed(num(rates.value_unsafe(), "InvokedPerSecond"), 0),
         fixed(num(rates.value_unsafe(), "FailedPerSecond"), 0),
         fixed(num(rates.value_unsafe(), "DeadLetteredPerSecond"), 0),
         fixed(num(rates.value_unsafe(), "InvocationMs"), 1),
         text(m, "LastProcessingResult")});
  }
  if (rows.size() == 1) {
    std::cout << "no mappings on " << opts.api
              << " (create one with aws lambda create-event-source-mapping"
                 " --endpoint-url http://"
              << opts.api << ")\n";
    return 0;
  }
  print_table(rows, right);
  return 0;
}

} // namespace kesm::cli
