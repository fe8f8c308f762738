// The credential chain against local fakes of instance metadata (IMDSv2),
// the ECS endpoint and STS, and the provider's refresh before expiry.
#include "transport/aws/credentials.hpp"

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

using namespace kesm::transport::aws;
using namespace std::chrono_literals;

namespace {

/// Clears every variable the chain reads, and points instance metadata at
/// nothing reachable unless a test says otherwise.
struct clean_env {
  clean_env() {
    for (auto* v :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
          "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
          "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
          "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
          "AWS_CONTAINER_CREDENTIALS_FULL_URI",
          "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_REGION",
          "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
          "AWS_EC2_METADATA_SERVICE_ENDPOINT"})
      ::unsetenv(v);
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    ::setenv("HOME", ::testing::TempDir().c_str(), 1);
  }
  ~clean_env() {
    ::unsetenv("AWS_EC2_METADATA_DISABLED");
  }
};

std::string iso(std::time_t t) {
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string creds_json(const std::string& key, std::time_t expires) {
  return R"({"Code":"Success","AccessKeyId":")" + key
         + R"(","SecretAccessKey":"secret-)" + key + R"(","Token":"tok-)" + key
         + R"(","Expiration":")" + iso(expires) + "\"}";
}

/// A fake of the instance metadata service, the ECS endpoint and STS.
struct fake_aws {
  httplib::Server srv;
  int port = 0;
  std::thread thread;
  std::atomic<int> credential_calls{0};
  std::atomic<std::time_t> expires{std::time(nullptr) + 3600};

  fake_aws() {
    srv.Put("/latest/api/token",
            [](const httplib::Request& req, httplib::Response& res) {
              if (!req.has_header("X-aws-ec2-metadata-token-ttl-seconds"))
                res.status = 400;
              else
                res.set_content("imds-token", "text/plain");
            });
    auto need_token = [](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("X-aws-ec2-metadata-token") != "imds-token") {
        res.status = 401; // IMDSv2 only
        return false;
      }
      return true;
    };
    srv.Get("/latest/meta-data/iam/security-credentials/",
            [=](const httplib::Request& req, httplib::Response& res) {
              if (need_token(req, res))
                res.set_content("kesm-role\n", "text/plain");
            });
    srv.Get("/latest/meta-data/iam/security-credentials/kesm-role",
            [=](const httplib::Request& req, httplib::Response& res) {
              if (!need_token(req, res))
                return;
              int n = ++credential_calls;
              res.set_content(creds_json("IMDS" + std::to_string(n), expires),
                              "application/json");
            });
    srv.Get("/latest/meta-data/placement/region",
            [=](const httplib::Request& req, httplib::Response& res) {
              if (need_token(req, res))
                res.set_content("eu-north-1", "text/plain");
            });
    srv.Get("/ecs-creds",
            [](const httplib::Request& req, httplib::Response& res) {
              if (req.get_header_value("Authorization") != "ecs-auth")
                res.status = 403;
              else
                res.set_content(creds_json("ECS", std::time(nullptr) + 3600),
                                "application/json");
            });
    srv.Post("/", [](const httplib::Request& req, httplib::Response& res) {
      if (req.body.find("Action=AssumeRoleWithWebIdentity") == std::string::npos
          || req.body.find("WebIdentityToken=jwt-token") == std::string::npos
          || req.body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr")
                 == std::string::npos) {
        res.status = 400;
        res.set_content("<Error><Code>InvalidIdentityToken</Code></Error>",
                        "text/xml");
        return;
      }
      res.set_content(
          "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
          "<Credentials><AccessKeyId>WEBID</AccessKeyId><SecretAccessKey>s"
          "</SecretAccessKey><SessionToken>t</SessionToken><Expiration>"
              + iso(std::time(nullptr) + 3600)
              + "</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
                "</AssumeRoleWithWebIdentityResponse>",
          "text/xml");
    });
    port = srv.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { srv.listen_after_bind(); });
    while (!srv.is_running())
      std::this_thread::sleep_for(1ms);
  }
  ~fake_aws() {
    srv.stop();
    thread.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port);
  }
};

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

} // namespace

TEST(credentials, the_environment_comes_first) {
  clean_env e;
  ::setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
  ::setenv("AWS_SESSION_TOKEN", "envtoken", 1);
  auto c = resolve_credentials();
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_EQ(c->access_key, "ENVKEY");
  EXPECT_EQ(c->session_token, "envtoken");
}

TEST(credentials, shared_files_by_profile_with_the_region) {
  clean_env e;
  auto dir = ::testing::TempDir();
  write(dir + "creds", "[default]\naws_access_key_id = DEF\n"
                       "aws_secret_access_key = d\n\n[ops]\n"
                       "aws_access_key_id = OPS\naws_secret_access_key = o\n");
  write(dir + "config", "[profile ops]\nregion = ap-south-1\n");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", (dir + "creds").c_str(), 1);
  ::setenv("AWS_CONFIG_FILE", (dir + "config").c_str(), 1);
  EXPECT_EQ(resolve_credentials()->access_key, "DEF");
  ::setenv("AWS_PROFILE", "ops", 1);
  EXPECT_EQ(resolve_credentials()->access_key, "OPS");
  EXPECT_EQ(resolve_region(), "ap-south-1");
  ::setenv("AWS_REGION", "us-west-2", 1);
  EXPECT_EQ(resolve_region(), "us-west-2");
}

TEST(credentials, web_identity_through_sts) {
  clean_env e;
  fake_aws aws;
  write(::testing::TempDir() + "jwt", "jwt-token\n");
  ::setenv("AWS_WEB_IDENTITY_TOKEN_FILE",
           (::testing::TempDir() + "jwt").c_str(), 1);
  ::setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/r", 1);
  ::setenv("AWS_ENDPOINT_URL_STS", (aws.url() + "/").c_str(), 1);
  auto c = resolve_credentials();
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_EQ(c->access_key, "WEBID");
  EXPECT_NE(c->expiration, std::chrono::system_clock::time_point{});
  ::setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/other", 1);
  auto bad = resolve_credentials();
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.err().message.find("InvalidIdentityToken"), std::string::npos);
}

TEST(credentials, ecs_container_endpoint_with_its_token) {
  clean_env e;
  fake_aws aws;
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI",
           (aws.url() + "/ecs-creds").c_str(), 1);
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ecs-auth", 1);
  auto c = resolve_credentials();
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_EQ(c->access_key, "ECS");
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong", 1);
  EXPECT_FALSE(resolve_credentials());
}

TEST(credentials, instance_metadata_with_an_imdsv2_token) {
  clean_env e;
  fake_aws aws;
  auto none = resolve_credentials();
  ASSERT_FALSE(none);
  EXPECT_NE(none.err().message.find("instance metadata disabled"),
            std::string::npos);
  ::unsetenv("AWS_EC2_METADATA_DISABLED");
  ::setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", aws.url().c_str(), 1);
  auto c = resolve_credentials();
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_EQ(c->access_key, "IMDS1");
  EXPECT_EQ(c->session_token, "tok-IMDS1");
  EXPECT_EQ(resolve_region(), "eu-north-1");
}

TEST(credentials, the_provider_refreshes_before_expiry_without_a_gap) {
  clean_env e;
  fake_aws aws;
  ::unsetenv("AWS_EC2_METADATA_DISABLED");
  ::setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", aws.url().c_str(), 1);
  // The first credentials expire in 4 minutes: inside the refresh margin.
  aws.expires = std::time(nullptr) + 240;
  credential_provider p;
  p.set_check_interval(20ms);
  ASSERT_TRUE(p.start());
  EXPECT_EQ(p.current()->access_key, "IMDS1");
  aws.expires = std::time(nullptr) + 3600;
  auto until = std::chrono::steady_clock::now() + 10s;
  std::string key;
  while (std::chrono::steady_clock::now() < until) {
    auto c = p.current();
    ASSERT_TRUE(c) << "a gap without credentials: " << c.err().message;
    key = c->access_key;
    if (key != "IMDS1")
      break;
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(key, "IMDS2");
}
