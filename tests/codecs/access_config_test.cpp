#include "codecs/access_config.hpp"

#include <gtest/gtest.h>

using namespace kesm::codecs;

namespace {

const std::map<std::string, std::string> vault{
  {"arn:s:scram", R"({"username":"alice","password":"pw-1"})"},
  {"arn:s:cert", R"({"certificate":"CERT","privateKey":"KEY","privateKeyPassword":"kp"})"},
  {"arn:s:cert-nopass", R"({"certificate":"CERT","privateKey":"KEY"})"},
  {"arn:s:ca", R"({"certificate":"CA"})"},
  {"arn:s:no-pass", R"({"username":"alice"})"},
  {"arn:s:no-key", R"({"certificate":"CERT"})"},
  {"arn:s:not-json", "hunter2"},
  {"arn:s:empty-user", R"({"username":"","password":"pw-1"})"},
  {"arn:s:list", R"(["alice","pw-1"])"},
};

expected<std::string> lookup(const std::string& arn) {
  auto it = vault.find(arn);
  if (it == vault.end())
    return error{errc::invalid_parameter, "Secret " + arn + " not found"};
  return it->second;
}

expected<std::map<std::string, std::string>>
props(std::vector<access_entry> entries) {
  return security_props(entries, lookup);
}

} // namespace

TEST(access_config, each_sasl_type_maps_to_its_mechanism) {
  struct row {
    const char* type;
    const char* mechanism;
  };
  for (auto r : {row{"SASL_SCRAM_512_AUTH", "SCRAM-SHA-512"},
                 row{"SASL_SCRAM_256_AUTH", "SCRAM-SHA-256"},
                 row{"BASIC_AUTH", "PLAIN"}}) {
    auto p = props({{r.type, "arn:s:scram"}});
    ASSERT_TRUE(p) << p.err().message;
    EXPECT_EQ(p->at("security.protocol"), "SASL_SSL") << r.type;
    EXPECT_EQ(p->at("sasl.mechanism"), r.mechanism);
    EXPECT_EQ(p->at("sasl.username"), "alice");
    EXPECT_EQ(p->at("sasl.password"), "pw-1");
  }
}

TEST(access_config, client_certificate_goes_in_memory_with_its_password) {
  auto p = props({{"CLIENT_CERTIFICATE_TLS_AUTH", "arn:s:cert"},
                  {"SERVER_ROOT_CA_CERTIFICATE", "arn:s:ca"}});
  ASSERT_TRUE(p) << p.err().message;
  EXPECT_EQ(p->at("security.protocol"), "SSL");
  EXPECT_EQ(p->at("ssl.certificate.pem"), "CERT");
  EXPECT_EQ(p->at("ssl.key.pem"), "KEY");
  EXPECT_EQ(p->at("ssl.key.password"), "kp");
  EXPECT_EQ(p->at("ssl.ca.pem"), "CA");
  EXPECT_FALSE(p->count("ssl.key.location")) << "never a file";
  auto plain = props({{"CLIENT_CERTIFICATE_TLS_AUTH", "arn:s:cert-nopass"}});
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->count("ssl.key.password"));
}

TEST(access_config, a_private_ca_alone_means_tls_and_with_sasl_keeps_sasl) {
  auto ca = props({{"SERVER_ROOT_CA_CERTIFICATE", "arn:s:ca"}});
  ASSERT_TRUE(ca);
  EXPECT_EQ(ca->at("security.protocol"), "SSL");
  auto both = props({{"SERVER_ROOT_CA_CERTIFICATE", "arn:s:ca"},
                     {"SASL_SCRAM_512_AUTH", "arn:s:scram"}});
  ASSERT_TRUE(both);
  EXPECT_EQ(both->at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(both->at("ssl.ca.pem"), "CA");
}

TEST(access_config, vpc_entries_add_nothing) {
  auto p = props({{"VPC_SUBNET", "subnet:subnet-1"},
                  {"VPC_SECURITY_GROUP", "security_group:sg-1"}});
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->empty());
}

TEST(access_config, missing_secrets_and_keys_are_named_never_valued) {
  struct row {
    const char* type;
    const char* uri;
    const char* names;
  };
  for (auto r : {row{"SASL_SCRAM_512_AUTH", "arn:s:gone", "arn:s:gone"},
                 row{"SASL_SCRAM_512_AUTH", "arn:s:no-pass", "\"password\""},
                 row{"BASIC_AUTH", "arn:s:cert", "\"username\""},
                 row{"CLIENT_CERTIFICATE_TLS_AUTH", "arn:s:no-key",
                     "\"privateKey\""},
                 row{"SERVER_ROOT_CA_CERTIFICATE", "arn:s:scram",
                     "\"certificate\""},
                 row{"SASL_SCRAM_256_AUTH", "arn:s:not-json", "not a JSON"},
                 row{"SASL_SCRAM_256_AUTH", "arn:s:empty-user", "\"username\""},
                 row{"BASIC_AUTH", "arn:s:list", "not a JSON object"},
                 row{"CLIENT_CERTIFICATE_TLS_AUTH", "arn:s:scram",
                     "\"certificate\""},
                 row{"CLIENT_CERTIFICATE_TLS_AUTH", "arn:s:gone", "arn:s:gone"},
                 row{"SERVER_ROOT_CA_CERTIFICATE", "arn:s:gone",
                     "arn:s:gone"}}) {
    auto p = props({{r.type, r.uri}});
    ASSERT_FALSE(p) << r.type << " " << r.uri;
    EXPECT_NE(p.err().message.find(r.names), std::string::npos)
      << p.err().message;
    for (auto* secret : {"pw-1", "KEY", "hunter2", "alice"})
      EXPECT_EQ(p.err().message.find(secret), std::string::npos)
        << p.err().message;
  }
}

TEST(access_config, combinations_lambda_refuses_are_refused) {
  auto two = check_access({{"SASL_SCRAM_512_AUTH", "a"},
                           {"CLIENT_CERTIFICATE_TLS_AUTH", "b"}},
                          false);
  ASSERT_FALSE(two);
  EXPECT_NE(two.err().message.find("cannot be combined"), std::string::npos);
  EXPECT_FALSE(check_access({{"BASIC_AUTH", "a"}, {"BASIC_AUTH", "b"}}, false));
  EXPECT_FALSE(check_access({{"VIRTUAL_HOST", "a"}}, false));
  EXPECT_TRUE(check_access({{"BASIC_AUTH", "a"},
                            {"SERVER_ROOT_CA_CERTIFICATE", "b"},
                            {"VPC_SUBNET", "c"}},
                           false));
  // MSK: SCRAM-512 or client certificates (none: IAM).
  EXPECT_TRUE(check_access({{"SASL_SCRAM_512_AUTH", "a"}}, true));
  EXPECT_TRUE(check_access({{"CLIENT_CERTIFICATE_TLS_AUTH", "a"}}, true));
  EXPECT_FALSE(check_access({{"BASIC_AUTH", "a"}}, true));
  EXPECT_FALSE(check_access({{"SASL_SCRAM_256_AUTH", "a"}}, true));
}

TEST(access_config, reads_the_stored_list) {
  auto e = parse_access(
    R"([{"Type":"SASL_SCRAM_512_AUTH","URI":"arn:aws:secretsmanager:us-east-1:1:secret:s"}])");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ(e->front().type, "SASL_SCRAM_512_AUTH");
  EXPECT_TRUE(parse_access("")->empty());
}
