#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "transport/aws/credentials.hpp"

namespace kesm::transport::aws {

/// MSK IAM authentication for librdkafka clients, as Lambda does it for an
/// MSK mapping without SourceAccessConfigurations: SASL_SSL OAUTHBEARER
/// whose token (msk_iam_token) librdkafka asks for through its refresh
/// callback, every 80 % of the token's 15 minutes.

/// The librdkafka properties that select MSK IAM for `region`.
std::map<std::string, std::string> msk_iam_props(const std::string& region);

/// The process's credentials for MSK IAM tokens (set once at startup,
/// before any client with msk_iam_props is made).
void set_msk_iam_credentials(std::shared_ptr<credential_provider> provider);

/// Installs the token refresh callback on `conf` when its properties are
/// msk_iam_props (called by transport::make_conf for every client). The
/// callback runs where the client is polled and never blocks: it signs
/// with the cached credentials, or reports why there are none (an
/// authentication failure the owner sees).
void install_msk_iam(rd_kafka_conf_t* conf);

} // namespace kesm::transport::aws

namespace kesm::transport::aws {

/// An MSK cluster's bootstrap servers from Kafka's GetBootstrapBrokers
/// (`GET /v1/clusters/{arn}/bootstrap-brokers`, signed for `kafka`, region
/// from the ARN, endpoint `AWS_ENDPOINT_URL_KAFKA` or AWS's): the list for
/// `auth` (`iam`, `scram`, `tls` or `plaintext`). Blocking (5 s at most):
/// for the registry's own thread.
codecs::expected<std::vector<std::string>>
bootstrap_brokers(const std::string& cluster_arn, const std::string& auth,
                  const credential_provider& provider);

} // namespace kesm::transport::aws
