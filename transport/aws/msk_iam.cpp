#include "transport/aws/msk_iam.hpp"

#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>

#include <simdjson.h>

#include "transport/aws/fetch.hpp"
#include "transport/aws/signer.hpp"
#include "transport/aws/sigv4.hpp"

namespace kesm::transport::aws {

namespace {

constexpr char marker[] = "kesm-msk-iam region=";

std::mutex mtx;
std::shared_ptr<credential_provider> shared_provider;

void on_refresh(rd_kafka_t* rk, const char* config, void*) {
  std::string region = config != nullptr
                           && std::strncmp(config, marker, sizeof(marker) - 1)
                                == 0
                         ? std::string(config + sizeof(marker) - 1)
                         : std::string();
  std::shared_ptr<credential_provider> provider;
  {
    std::lock_guard<std::mutex> guard{mtx};
    provider = shared_provider;
  }
  if (!provider || region.empty()) {
    rd_kafka_oauthbearer_set_token_failure(
      rk, "MSK IAM: kesm has no AWS credentials for this client");
    return;
  }
  auto creds = provider->current();
  if (!creds) {
    rd_kafka_oauthbearer_set_token_failure(
      rk, ("MSK IAM: " + creds.err().message).c_str());
    return;
  }
  auto now = std::time(nullptr);
  auto token = msk_iam_token(*creds, region, now, "kesm");
  char err[512];
  // The token is good for 900 s from its X-Amz-Date.
  if (rd_kafka_oauthbearer_set_token(rk, token.c_str(),
                                     (static_cast<int64_t>(now) + 900) * 1000,
                                     "kesm", nullptr, 0, err, sizeof(err))
      != RD_KAFKA_RESP_ERR_NO_ERROR)
    rd_kafka_oauthbearer_set_token_failure(rk, err);
}

} // namespace

std::map<std::string, std::string> msk_iam_props(const std::string& region) {
  return {{"security.protocol", "SASL_SSL"},
          {"sasl.mechanism", "OAUTHBEARER"},
          {"sasl.oauthbearer.config", marker + region}};
}

void set_msk_iam_credentials(std::shared_ptr<credential_provider> provider) {
  std::lock_guard<std::mutex> guard{mtx};
  shared_provider = std::move(provider);
}

void install_msk_iam(rd_kafka_conf_t* conf) {
  char value[256];
  size_t size = sizeof(value);
  if (rd_kafka_conf_get(conf, "sasl.oauthbearer.config", value, &size)
        == RD_KAFKA_CONF_OK
      && std::strncmp(value, marker, sizeof(marker) - 1) == 0)
    rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, on_refresh);
}

} // namespace kesm::transport::aws

namespace kesm::transport::aws {

codecs::expected<std::vector<std::string>>
bootstrap_brokers(const std::string& cluster_arn, const std::string& auth,
                  const credential_provider& provider) {
  auto fail = [&](const std::string& why) {
    return codecs::error{codecs::errc::invalid_parameter,
                         "Cluster " + cluster_arn
                           + ": GetBootstrapBrokers failed: " + why};
  };
  auto region = arn_region(cluster_arn);
  auto creds = provider.current();
  if (!creds)
    return fail(creds.err().message);
  auto base = endpoint_for("KAFKA", "kafka", region);
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  aws_request req;
  req.method = "GET";
  req.url = base + "/v1/clusters/" + uri_encode(cluster_arn, false)
            + "/bootstrap-brokers";
  sign(req, *creds, region, "kafka", std::time(nullptr));
  auto a = fetch("GET", req.url, req.headers, "", 5000);
  if (a.status == 0)
    return fail(a.error);
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(a.body).get_object().get(obj))
    return fail("HTTP " + std::to_string(a.status) + " without JSON");
  if (a.status != 200) {
    std::string_view message;
    if (obj["message"].get(message) && obj["Message"].get(message))
      message = "HTTP " + std::to_string(a.status);
    return fail(std::string(message));
  }
  const char* key = auth == "iam"     ? "BootstrapBrokerStringSaslIam"
                    : auth == "scram" ? "BootstrapBrokerStringSaslScram"
                    : auth == "tls"   ? "BootstrapBrokerStringTls"
                                      : "BootstrapBrokerString";
  std::string_view list;
  if (obj[key].get(list) || list.empty())
    return fail(std::string("the cluster has no ") + key
                + "; enable that authentication on the cluster");
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= list.size()) {
    auto end = list.find(',', at);
    if (end == std::string_view::npos)
      end = list.size();
    if (end > at)
      out.emplace_back(list.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

} // namespace kesm::transport::aws
