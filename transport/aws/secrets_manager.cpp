#include "transport/aws/secrets_manager.hpp"

#include <ctime>

#include <simdjson.h>

#include "codecs/event_writer.hpp"
#include "transport/aws/fetch.hpp"
#include "transport/aws/signer.hpp"

namespace kesm::transport::aws {

namespace {

codecs::error refused(const std::string& arn, const std::string& why) {
  return codecs::error{codecs::errc::invalid_parameter,
                       "Secret " + arn + " from Secrets Manager: " + why};
}

} // namespace

codecs::expected<std::string>
secrets_manager_source::get(const std::string& arn) const {
  auto local = local_->get(arn);
  if (local || local.err().code != codecs::errc::not_found)
    return local;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto it = cache_.find(arn);
    if (it != cache_.end()
        && std::chrono::steady_clock::now() - it->second.at
               < std::chrono::minutes(15))
      return it->second.text;
  }
  // arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME
  if (arn_field(arn, 2) != "secretsmanager")
    return local; // no Secrets Manager ARN: the local "not found" stands
  auto region = arn_region(arn);
  auto provider = credentials_();
  if (!provider)
    return refused(arn, provider.err().message);
  auto creds = (*provider)->current();
  if (!creds)
    return refused(arn, creds.err().message);
  aws_request req;
  req.url = endpoint_for("SECRETS_MANAGER", "secretsmanager", region);
  if (split_url(req.url).path == "/" && req.url.back() != '/')
    req.url += "/";
  req.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "secretsmanager.GetSecretValue"}};
  req.body = "{\"SecretId\":";
  codecs::event_writer::append_json_string(req.body, arn);
  req.body += "}";
  sign(req, *creds, region, "secretsmanager", std::time(nullptr));
  auto answer = fetch("POST", req.url, req.headers, req.body, 5000);
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (answer.status == 0)
    return refused(arn, answer.error);
  if (parser.parse(answer.body).get_object().get(obj))
    return refused(arn, "HTTP " + std::to_string(answer.status)
                            + " without a JSON answer");
  std::string_view text;
  if (answer.status != 200) {
    std::string_view type, message;
    if (obj["__type"].get(type))
      type = {};
    if (obj["Message"].get(message) && obj["message"].get(message))
      message = {};
    return refused(arn, std::string(type.empty() ? "HTTP error" : type) + ": "
                            + std::string(message));
  }
  if (obj["SecretString"].get(text))
    return refused(arn, "it has no SecretString (binary secrets are not"
                        " supported)");
  std::lock_guard<std::mutex> guard{mtx_};
  cache_[arn] = cached{std::string(text), std::chrono::steady_clock::now()};
  return std::string(text);
}

void secrets_manager_source::forget(const std::string& arn) const {
  std::lock_guard<std::mutex> guard{mtx_};
  cache_.erase(arn);
}

} // namespace kesm::transport::aws
