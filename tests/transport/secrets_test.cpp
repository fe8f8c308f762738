#include "transport/secrets.hpp"

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

using namespace kesm::transport;

namespace {

const std::string arn
  = "arn:aws:secretsmanager:us-east-1:111122223333:secret:kafka-AbCdEf";

std::string temp(const std::string& name) {
  return ::testing::TempDir() + name;
}

} // namespace

TEST(secrets, map_values_expand_env_and_files_each_time) {
  ::setenv("KESM_TEST_KAFKA_PW", "from-env", 1);
  auto file = temp("kafka-user");
  std::ofstream(file) << "from-file\n";
  config_secrets src({{arn, R"({"username":"file:)" + file
                              + R"(","password":"${KESM_TEST_KAFKA_PW}"})"}},
                     "", false);
  auto s = src.get(arn);
  ASSERT_TRUE(s) << s.err().message;
  EXPECT_EQ(*s, R"({"username":"from-file","password":"from-env"})");
  // Rotation: the next read sees the new value.
  ::setenv("KESM_TEST_KAFKA_PW", "rotated", 1);
  EXPECT_NE(src.get(arn)->find("rotated"), std::string::npos);
  ::unsetenv("KESM_TEST_KAFKA_PW");
  auto unset = src.get(arn);
  ASSERT_FALSE(unset);
  EXPECT_NE(unset.err().message.find("KESM_TEST_KAFKA_PW"), std::string::npos);
}

TEST(secrets, a_directory_holds_secrets_by_name_with_or_without_suffix) {
  auto dir = temp("secrets-dir");
  std::system(("mkdir -p " + dir).c_str());
  std::ofstream(dir + "/kafka") << R"({"username":"u","password":"p"})";
  config_secrets src({}, dir, false);
  auto s = src.get(arn);
  ASSERT_TRUE(s) << s.err().message;
  EXPECT_NE(s->find("\"u\""), std::string::npos);
  auto gone = src.get(arn + "x");
  ASSERT_FALSE(gone);
  EXPECT_NE(gone.err().message.find("not found"), std::string::npos);
  EXPECT_FALSE(src.get("arn:aws:secretsmanager:r:1:secret:../etc-passwd"));
}

TEST(secrets, the_environment_holds_secrets_when_enabled) {
  ::setenv("KESM_SECRET_KAFKA", R"({"username":"e","password":"q"})", 1);
  EXPECT_FALSE(config_secrets({}, "", false).get(arn)) << "not enabled";
  auto s = config_secrets({}, "", true).get(arn);
  ASSERT_TRUE(s) << s.err().message;
  EXPECT_NE(s->find("\"e\""), std::string::npos);
  ::unsetenv("KESM_SECRET_KAFKA");
}

TEST(secrets, resolve_security_reads_the_mappings_access_configurations) {
  kesm::codecs::mapping_config cfg;
  cfg.echoed["SourceAccessConfigurations"]
    = R"([{"Type":"SASL_SCRAM_512_AUTH","URI":")" + arn + R"("}])";
  config_secrets src({{arn, R"({"username":"u","password":"p"})"}}, "", false);
  auto p = resolve_security(cfg, src, {});
  ASSERT_TRUE(p) << p.err().message;
  EXPECT_EQ(p->at("sasl.mechanism"), "SCRAM-SHA-512");
  config_secrets empty({}, "", false);
  auto missing = resolve_security(cfg, empty, {});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.err().message.find(arn), std::string::npos);
}
