// `kesm serve` against secured clusters: the embedded broker behind the
// TLS/SASL front. Every access type delivers and commits; wrong secrets
// are PROBLEMs with Lambda's StateTransitionReason and recover once fixed;
// no secret reaches any output.
#include <cstdlib>
#include <fstream>

#include <httplib.h>
#include <simdjson.h>

#include "integration/child.hpp"
#include "integration/harness.hpp"
#include "codecs/base64.hpp"
#include "transport/aws/signer.hpp"
#include "transport/kafka_front/front.hpp"

using namespace kesm;
using namespace kesm::test;
using namespace kesm::transport::kafka_front;
using namespace std::chrono_literals;

namespace {

const std::string arn_prefix
    = "arn:aws:secretsmanager:us-east-1:111122223333:secret:";

std::string dir() {
  return ::testing::TempDir();
}

std::string put(const std::string& name, const std::string& text) {
  auto path = dir() + name;
  std::ofstream(path) << text;
  return path;
}

/// One cluster behind three fronts: SASL (PLAIN and both SCRAMs, one user
/// each), client certificates, and TLS alone.
struct secured_cluster {
  test_cluster cluster;
  throwaway_pki pki = std::move(*throwaway_pki::make());
  std::unique_ptr<secure_front> sasl, mtls, tls;

  secured_cluster() {
    front_options o;
    o.server = pki.server;
    o.mechanisms = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};
    o.users = {{"alice", "alice-pw-512"},
               {"bob", "bob-pw-256"},
               {"carol", "carol-pw-plain"}};
    sasl = std::move(*secure_front::start(cluster.bootstrap(), o));
    front_options m;
    m.server = pki.server;
    m.client_ca = pki.ca.certificate;
    mtls = std::move(*secure_front::start(cluster.bootstrap(), m));
    front_options t;
    t.server = pki.server;
    tls = std::move(*secure_front::start(cluster.bootstrap(), t));
  }
};

struct grant {
  std::string type;
  std::string secret; // name after arn_prefix
};

std::string mapping(const std::string& topic, const std::string& bootstrap,
                    const std::vector<grant>& list,
                    const std::string& extra = "") {
  std::string acl;
  for (auto& a : list)
    acl += std::string(acl.empty() ? "" : ",") + R"({"Type":")" + a.type
           + R"(","URI":")" + arn_prefix + a.secret + R"("})";
  return R"({"FunctionName":"fn","Topics":[")" + topic
         + R"("],"StartingPosition":"TRIM_HORIZON","BatchSize":10,)"
           R"("MaximumBatchingWindowInSeconds":0,)"
         + extra
         + R"("SelfManagedKafkaEventSourceConfig":{"ConsumerGroupId":"g-)"
         + topic
         + R"("},"SelfManagedEventSource":{"Endpoints":)"
           R"({"KAFKA_BOOTSTRAP_SERVERS":[")"
         + bootstrap + R"("]}},"SourceAccessConfigurations":[)" + acl + "]}";
}

std::string config(const std::string& url, const std::string& secrets,
                   const std::vector<std::string>& mappings,
                   const std::string& kafka
                   = R"({"session.timeout.ms":6000})") {
  std::string list;
  for (auto& m : mappings)
    list += (list.empty() ? "" : ",") + m;
  return R"({"kafka":)" + kafka + R"(,"secrets":{)" + secrets
         + R"(},"functions":{"fn":{"url":")" + url + R"("}},"mappings":[)"
         + list + "]}";
}

std::string secret(const std::string& name, const std::string& json) {
  return "\"" + arn_prefix + name + "\":" + json;
}

std::string get(int port, const std::string& path) {
  httplib::Client http("127.0.0.1", port);
  auto res = http.Get(path);
  return res ? res->body : std::string{};
}

/// topic -> (LastProcessingResult, StateTransitionReason).
std::map<std::string, std::pair<std::string, std::string>> states(int port) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  auto body = get(port, "/2015-03-31/event-source-mappings/");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc))
    return out;
  for (auto m : doc["EventSourceMappings"].get_array()) {
    std::string_view topic, result, reason;
    if (m["Topics"].at(0).get(topic) || m["LastProcessingResult"].get(result)
        || m["StateTransitionReason"].get(reason))
      continue;
    out[std::string(topic)] = {std::string(result), std::string(reason)};
  }
  return out;
}

} // namespace

TEST(kafka_auth, every_access_type_delivers_commits_and_prints_no_secret) {
  secured_cluster s;
  auto key_password = "key-pw-77";
  put("auth-ca.pem", s.pki.ca.certificate);
  put("auth-client.pem", s.pki.client.certificate);
  auto locked_key = *encrypt_key(s.pki.client.private_key, key_password);
  put("auth-client-key.pem", locked_key);
  put("auth-alice.pw", "alice-pw-512\n");
  ::setenv("KESM_TEST_BOB_PW", "bob-pw-256", 1);
  auto secrets
      = secret("alice", R"({"username":"alice","password":"file:)" + dir()
                            + R"(auth-alice.pw"})")
        + ","
        + secret("bob",
                 R"({"username":"bob","password":"${KESM_TEST_BOB_PW}"})")
        + ","
        + secret("carol", R"({"username":"carol","password":"carol-pw-plain"})")
        + ","
        + secret("ca", R"({"certificate":"file:)" + dir() + R"(auth-ca.pem"})")
        + ","
        + secret("client", R"({"certificate":"file:)" + dir()
                               + R"(auth-client.pem","privateKey":"file:)"
                               + dir()
                               + R"(auth-client-key.pem",)"
                                 R"("privateKeyPassword":")"
                               + key_password + "\"}");
  const std::vector<std::pair<std::string, std::vector<grant>>> cases = {
      {"scram512",
       {{"SASL_SCRAM_512_AUTH", "alice"},
        {"SERVER_ROOT_CA_CERTIFICATE", "ca"}}},
      {"scram256",
       {{"SASL_SCRAM_256_AUTH", "bob"}, {"SERVER_ROOT_CA_CERTIFICATE", "ca"}}},
      {"plain",
       {{"BASIC_AUTH", "carol"}, {"SERVER_ROOT_CA_CERTIFICATE", "ca"}}},
      {"mtls",
       {{"CLIENT_CERTIFICATE_TLS_AUTH", "client"},
        {"SERVER_ROOT_CA_CERTIFICATE", "ca"}}},
      {"tlsonly",
       {{"SERVER_ROOT_CA_CERTIFICATE", "ca"},
        {"VPC_SUBNET", "subnet:subnet-1"}}},
  };
  std::vector<std::string> mappings;
  for (auto& [topic, list] : cases) {
    s.cluster.create_topic(topic, 2);
    s.cluster.produce(topic, 0, 10);
    s.cluster.produce(topic, 1, 10);
    auto& front = topic == "mtls"      ? s.mtls
                  : topic == "tlsonly" ? s.tls
                                       : s.sasl;
    mappings.push_back(mapping(topic, front->bootstrap(), list));
  }
  // The on-failure producer authenticates like the consumer: a mapping
  // whose function always fails dead-letters through the SASL front.
  s.cluster.create_topic("dlqsrc", 1);
  s.cluster.create_topic("dlqout", 1);
  s.cluster.produce("dlqsrc", 0, 10);
  mappings.push_back(
    mapping("dlqsrc", s.sasl->bootstrap(),
            {{"SASL_SCRAM_512_AUTH", "alice"},
             {"SERVER_ROOT_CA_CERTIFICATE", "ca"}},
            R"("MaximumRetryAttempts":0,"DestinationConfig":{"OnFailure":)"
            R"({"Destination":"kafka://dlqout"}},)"));
  scripted_function fn([](size_t, const invocation& inv) {
    transport::function_reply r;
    if (!inv.records.empty() && inv.records.front().topic == "dlqsrc")
      r.status = 500;
    return r;
  });
  // librdkafka's own debug lines are part of what must hold no secret.
  auto path = put("auth-all.json",
                  config(fn.url(), secrets, mappings,
                         R"({"session.timeout.ms":6000,"log_level":"7",)"
                         R"("debug":"security,broker,conf,generic"})"));
  auto err = dir() + "auth-all.err";
  ::setenv("KESM_LOG_LEVEL", "debug", 1);
  child serve(serve_args(path, "auth-all"), false, err);
  ::unsetenv("KESM_LOG_LEVEL");
  int port = serve.api_port();
  ASSERT_GT(port, 0);
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 100; }, 60s))
      << fn.delivered() << " of 100 delivered";
  for (auto& c : cases) {
    auto topic = c.first;
    EXPECT_TRUE(eventually([&] {
      return all_committed(s.cluster, "g-" + topic, topic);
    })) << topic;
  }
  EXPECT_EQ(s.cluster.read("dlqout", 10).size(), 10u)
    << "dead letters did not arrive through the secured front";
  EXPECT_TRUE(eventually([&] { return all_committed(s.cluster, "g-dlqsrc", "dlqsrc"); }));
  EXPECT_GE(s.sasl->accepted(), 4u);
  EXPECT_GE(s.mtls->accepted(), 1u);
  auto outputs
      = get(port, "/2015-03-31/event-source-mappings/") + get(port, "/metrics");
  EXPECT_EQ(serve.stop(SIGTERM), 0);
  outputs += slurp(err);
  ::unsetenv("KESM_TEST_BOB_PW");
  EXPECT_NE(outputs.find("SASL_SCRAM_512_AUTH"), std::string::npos);
  EXPECT_NE(outputs.find("VPC_SUBNET / VPC_SECURITY_GROUP ignored"),
            std::string::npos);
  EXPECT_GT(outputs.size(), 10000u) << "debug lines expected";
  // A line from the middle of each private key: PEM bodies are 64-column.
  auto key_line = [](const std::string& pem) {
    return pem.substr(pem.find('\n', 40) + 1, 64);
  };
  for (std::string needle :
       {std::string("alice-pw-512"), std::string("bob-pw-256"),
        std::string("carol-pw-plain"), std::string(key_password),
        key_line(s.pki.client.private_key), key_line(locked_key)})
    EXPECT_EQ(outputs.find(needle), std::string::npos)
        << "a secret was printed: " << needle.substr(0, 6) << "...";
}

TEST(kafka_auth, refused_access_is_a_problem_until_the_secret_is_fixed) {
  secured_cluster s;
  auto other = throwaway_pki::make();
  ASSERT_TRUE(other);
  auto stranger = issue(other->ca, "stranger", false);
  ASSERT_TRUE(stranger);
  // Wrong password, a CA that did not sign the broker, a client
  // certificate the broker does not trust, and no client certificate.
  put("bad-alice.pw", "not-her-password");
  put("bad-ca.pem", other->ca.certificate);
  put("good-ca.pem", s.pki.ca.certificate);
  put("bad-client.pem", stranger->certificate);
  put("bad-client-key.pem", stranger->private_key);
  auto file
      = [](const std::string& name) { return "\"file:" + dir() + name + "\""; };
  auto secrets
      = secret("alice", R"({"username":"alice","password":)"
                            + file("bad-alice.pw") + "}")
        + "," + secret("ca", R"({"certificate":)" + file("good-ca.pem") + "}")
        + ","
        + secret("wrongca", R"({"certificate":)" + file("bad-ca.pem") + "}")
        + ","
        + secret("client", R"({"certificate":)" + file("bad-client.pem")
                               + R"(,"privateKey":)"
                               + file("bad-client-key.pem") + "}");
  for (auto t : {"badpw", "badca", "badcert", "nocert"}) {
    s.cluster.create_topic(t, 1);
    s.cluster.produce(t, 0, 10);
  }
  std::vector<std::string> mappings = {
      mapping("badpw", s.sasl->bootstrap(),
              {{"SASL_SCRAM_512_AUTH", "alice"},
               {"SERVER_ROOT_CA_CERTIFICATE", "ca"}}),
      mapping("badca", s.sasl->bootstrap(),
              {{"SASL_SCRAM_512_AUTH", "alice"},
               {"SERVER_ROOT_CA_CERTIFICATE", "wrongca"}}),
      mapping("badcert", s.mtls->bootstrap(),
              {{"CLIENT_CERTIFICATE_TLS_AUTH", "client"},
               {"SERVER_ROOT_CA_CERTIFICATE", "ca"}}),
      mapping("nocert", s.mtls->bootstrap(),
              {{"SERVER_ROOT_CA_CERTIFICATE", "ca"}}),
  };
  scripted_function fn;
  auto path = put("auth-bad.json", config(fn.url(), secrets, mappings));
  auto err = dir() + "auth-bad.err";
  child serve(serve_args(path, "auth-bad"), false, err);
  int port = serve.api_port();
  ASSERT_GT(port, 0);
  auto problem = [&](const std::string& topic, const std::string& text) {
    return eventually([&] {
      auto st = states(port)[topic];
      return st.first.find("PROBLEM: Authentication error") == 0
             && st.first.find(text) != std::string::npos
             && st.second == "EVENT_SOURCE_AUTHN_ERROR";
    });
  };
  EXPECT_TRUE(problem("badpw", "invalid credentials"))
      << states(port)["badpw"].first;
  EXPECT_TRUE(problem("badca", "certificate verify failed"))
      << states(port)["badca"].first;
  EXPECT_TRUE(problem("badcert", "unknown ca"))
      << states(port)["badcert"].first;
  EXPECT_TRUE(problem("nocert", "certificate required"))
      << states(port)["nocert"].first;
  auto metrics = get(port, "/metrics");
  EXPECT_NE(metrics.find("kesm_polling_error_count_total"), std::string::npos);
  EXPECT_EQ(fn.delivered(), 0u);
  // Backoff, not a loop: a few restarts in the first seconds.
  std::this_thread::sleep_for(3s);
  auto text = slurp(err);
  size_t restarts = 0;
  for (auto at = text.find("starting again"); at != std::string::npos;
       at = text.find("starting again", at + 1))
    ++restarts;
  EXPECT_LT(restarts, 4u * 6) << text;
  // Fix the secrets (not the mappings): each recovers by itself.
  put("bad-alice.pw", "alice-pw-512");
  put("bad-ca.pem", s.pki.ca.certificate);
  put("bad-client.pem", s.pki.client.certificate);
  put("bad-client-key.pem", s.pki.client.private_key);
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 30; }, 90s))
      << fn.delivered() << " of 30 delivered";
  for (auto t : {"badpw", "badca", "badcert"}) {
    EXPECT_TRUE(eventually([&] {
      return all_committed(s.cluster, "g-" + std::string(t), t);
    })) << t;
    EXPECT_TRUE(eventually([&] {
      return states(port)[t].second == "USER_INITIATED";
    })) << t;
  }
  EXPECT_EQ(serve.stop(SIGTERM), 0);
}

TEST(kafka_auth,
     a_group_acl_refusal_is_an_authorization_problem_then_recovers) {
  test_cluster cluster;
  cluster.create_topic("acl", 1);
  cluster.produce("acl", 0, 10);
  // The broker refuses the group twice (JoinGroup), then allows it.
  rd_kafka_mock_push_request_errors(
      cluster.broker().cluster(), 11 /* JoinGroup */, 2,
      RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED,
      RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED);
  scripted_function fn;
  auto m
      = R"({"FunctionName":"fn","Topics":["acl"],)"
        R"("StartingPosition":"TRIM_HORIZON",)"
        R"("MaximumBatchingWindowInSeconds":0,)"
        R"("SelfManagedKafkaEventSourceConfig":{"ConsumerGroupId":"g-acl"},)"
        R"("SelfManagedEventSource":{"Endpoints":{"KAFKA_BOOTSTRAP_SERVERS":[")"
        + cluster.bootstrap() + R"("]}}})";
  auto path = put("auth-acl.json", config(fn.url(), "", {m}));
  child serve(serve_args(path, "auth-acl"));
  int port = serve.api_port();
  ASSERT_GT(port, 0);
  bool seen = eventually([&] {
    auto st = states(port)["acl"];
    return st.first.find("PROBLEM: Authorization error") == 0
           && st.second == "EVENT_SOURCE_AUTHZ_ERROR";
  });
  EXPECT_TRUE(seen) << states(port)["acl"].first;
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 10; }, 60s));
  EXPECT_TRUE(eventually(
      [&] { return states(port)["acl"].second == "USER_INITIATED"; }));
  EXPECT_EQ(serve.stop(SIGTERM), 0);
}

namespace {

/// Verifies an MSK IAM token as MSK would: the presigned URL's signature
/// recomputed with the key's secret, for the token's own X-Amz-Date.
bool verify_msk_token(const std::string& token, const std::string& region,
                      const kesm::transport::aws::credentials& creds,
                      std::string& why) {
  if (!msk_token_shape(token, why))
    return false;
  std::string url;
  kesm::codecs::base64url_decode(token, url);
  auto date_at = url.find("X-Amz-Date=") + 11;
  std::tm tm{};
  strptime(url.substr(date_at, 16).c_str(), "%Y%m%dT%H%M%SZ", &tm);
  auto want = kesm::transport::aws::presign(
    "https://kafka." + region
      + ".amazonaws.com/?Action=kafka-cluster%3AConnect",
    creds, region, "kafka-cluster", 900, timegm(&tm));
  if (url.rfind(want + "&User-Agent=", 0) != 0) {
    why = "signature does not match";
    return false;
  }
  return true;
}

} // namespace

TEST(kafka_auth, msk_iam_authenticates_with_a_signed_token) {
  test_cluster cluster;
  auto pki = *throwaway_pki::make();
  kesm::transport::aws::credentials creds{"AKIAMSKTEST", "msk-secret-key",
                                          "msk-session-token"};
  std::atomic<int> verified{0};
  front_options o;
  o.server = pki.server;
  o.mechanisms = {"OAUTHBEARER"};
  o.check_bearer = [&](const std::string& token, std::string& why) {
    bool ok = verify_msk_token(token, "eu-west-1", creds, why);
    verified += ok ? 1 : 0;
    return ok;
  };
  auto front = std::move(*secure_front::start(cluster.bootstrap(), o));
  cluster.create_topic("iam", 1);
  cluster.produce("iam", 0, 10);
  auto ca = put("iam-ca.pem", pki.ca.certificate);
  auto arn = std::string("arn:aws:kafka:eu-west-1:111122223333:cluster/c/1");
  scripted_function fn;
  auto m = R"({"FunctionName":"fn","Topics":["iam"],"EventSourceArn":")" + arn
           + R"(","StartingPosition":"TRIM_HORIZON",)"
             R"("MaximumBatchingWindowInSeconds":0,)"
             R"("AmazonManagedKafkaEventSourceConfig":{"ConsumerGroupId":"g-iam"}})";
  auto text = R"({"kafka":{"session.timeout.ms":6000,"ssl.ca.location":")"
              + ca + R"("},"msk_iam":true,"clusters":{")" + arn + R"(":[")"
              + front->bootstrap() + R"("]},"functions":{"fn":{"url":")"
              + fn.url() + R"("}},"mappings":[)" + m + "]}";
  auto path = put("auth-iam.json", text);
  ::setenv("AWS_ACCESS_KEY_ID", creds.access_key.c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", creds.secret_key.c_str(), 1);
  ::setenv("AWS_SESSION_TOKEN", creds.session_token.c_str(), 1);
  ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  auto err = dir() + "auth-iam.err";
  child serve(serve_args(path, "auth-iam"), false, err);
  for (auto* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                  "AWS_SESSION_TOKEN", "AWS_EC2_METADATA_DISABLED"})
    ::unsetenv(v);
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 10; }, 60s))
    << slurp(err);
  EXPECT_GE(verified.load(), 1);
  EXPECT_TRUE(eventually([&] { return all_committed(cluster, "g-iam", "iam"); }));
  EXPECT_EQ(serve.stop(SIGTERM), 0);
  auto log = slurp(err);
  EXPECT_EQ(log.find("msk-secret-key"), std::string::npos);
  EXPECT_EQ(log.find("msk-session-token"), std::string::npos);
}
