// The SigV4 signer against AWS's published test-suite vector and, byte for
// byte, against botocore (tests/transport/sigv4_reference.py).
#include "transport/aws/signer.hpp"

#include <cstdio>
#include <fstream>

#include <unistd.h>

#include <gtest/gtest.h>

#include "codecs/base64.hpp"

using namespace kesm::transport::aws;

namespace {

const credentials example{"AKIDEXAMPLE",
                          "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

std::string json_str(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

/// botocore's answer for `input` (a JSON object).
std::string botocore(const std::string& input) {
  // One file per call and process: ctest runs tests side by side.
  static int calls = 0;
  auto path = ::testing::TempDir() + "sigv4-in-" + std::to_string(getpid())
              + "-" + std::to_string(++calls) + ".json";
  std::ofstream(path) << input;
  std::string cmd = std::string(KESM_PYTHON) + " " + KESM_TESTS_DIR
                    + "/transport/sigv4_reference.py < " + path;
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof(buf), p))
      out.append(buf, n);
    pclose(p);
  }
  return out;
}

std::string header_lines(const aws_request& r) {
  std::string out;
  for (auto& [k, v] : r.headers)
    if (k == "X-Amz-Date" || k == "X-Amz-Security-Token"
        || k == "Authorization")
      out += k + ": " + v + "\n";
  return out;
}

std::string reference_input(const aws_request& r, const credentials& c,
                            const std::string& region,
                            const std::string& service, std::time_t now) {
  std::string headers;
  for (auto& [k, v] : r.headers)
    headers += std::string(headers.empty() ? "" : ",") + "[" + json_str(k) + ","
               + json_str(v) + "]";
  return "{\"method\":" + json_str(r.method) + ",\"url\":" + json_str(r.url)
         + ",\"headers\":[" + headers + "],\"body\":" + json_str(r.body)
         + ",\"access_key\":" + json_str(c.access_key) + ",\"secret_key\":"
         + json_str(c.secret_key) + ",\"token\":" + json_str(c.session_token)
         + ",\"region\":" + json_str(region) + ",\"service\":"
         + json_str(service) + ",\"now\":" + std::to_string(now) + "}";
}

} // namespace

TEST(signer, matches_the_aws_test_suite_get_vanilla) {
  aws_request r;
  r.method = "GET";
  r.url = "https://example.amazonaws.com/";
  sign(r, example, "us-east-1", "service", 1440938160); // 20150830T123600Z
  EXPECT_EQ(r.headers.back().second,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
            "service/aws4_request, SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1"
            "d763fbf31");
}

TEST(signer, header_form_matches_botocore_byte_for_byte) {
  credentials with_token = example;
  with_token.session_token = "IQoJb3JpZ2luX2VjE/tok+en==";
  struct row {
    std::string method, url, body;
    credentials creds;
  };
  for (auto& c : {
           row{"POST",
               "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/"
               "my-fn%3Aprod/invocations",
               R"({"records":{}})", example},
           row{"POST",
               "http://127.0.0.1:4566/2015-03-31/functions/f/invocations", "",
               with_token},
           row{"GET",
               "https://kafka.eu-west-1.amazonaws.com/v1/clusters/"
               "arn%3Aaws%3Akafka%3Aeu-west-1%3A1%3Acluster%2Fc%2Fu/"
               "bootstrap-brokers?b=2&a=1%2F",
               "", with_token},
       }) {
    aws_request r;
    r.method = c.method;
    r.url = c.url;
    r.body = c.body;
    r.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Invocation-Type", "RequestResponse"},
                 {"User-Agent", "kesm"}};
    auto want = botocore(
        reference_input(r, c.creds, "us-east-1", "lambda", 1700000000));
    ASSERT_FALSE(want.empty()) << "botocore reference did not run";
    sign(r, c.creds, "us-east-1", "lambda", 1700000000);
    EXPECT_EQ(header_lines(r), want) << c.url;
  }
}

TEST(signer, presigned_url_matches_botocore_byte_for_byte) {
  credentials with_token = example;
  with_token.session_token = "IQoJb3JpZ2luX2VjE/tok+en==";
  for (auto& c : {example, with_token}) {
    std::string url = "https://kafka.us-east-1.amazonaws.com/"
                      "?Action=kafka-cluster%3AConnect";
    auto want = botocore("{\"url\":" + json_str(url)
                         + ",\"access_key\":" + json_str(c.access_key)
                         + ",\"secret_key\":" + json_str(c.secret_key)
                         + ",\"token\":" + json_str(c.session_token)
                         + ",\"region\":\"us-east-1\",\"service\":"
                           "\"kafka-cluster\",\"now\":1700000000,"
                           "\"presign_expires\":900}");
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(presign(url, c, "us-east-1", "kafka-cluster", 900, 1700000000)
                  + "\n",
              want);
  }
}

TEST(signer, split_url_drops_default_ports_only) {
  EXPECT_EQ(split_url("https://h:443/p?q=1").host, "h");
  EXPECT_EQ(split_url("http://h:8080").host, "h:8080");
  EXPECT_EQ(split_url("http://h:8080").path, "/");
  EXPECT_EQ(split_url("https://h/a/b?x=y").query, "x=y");
}

TEST(signer, msk_iam_token_is_the_unpadded_base64url_presigned_connect_url) {
  credentials c = example;
  c.session_token = "IQoJb3JpZ2luX2VjE/tok+en==";
  auto token = msk_iam_token(c, "eu-west-1", 1700000000, "kesm/1.0");
  EXPECT_EQ(token.find_first_of("+/="), std::string::npos);
  // Decode (base64url) and compare with botocore's presigned URL.
  std::string url;
  ASSERT_TRUE(kesm::codecs::base64url_decode(token, url));
  std::string suffix = "&User-Agent=kesm%2F1.0";
  ASSERT_GT(url.size(), suffix.size());
  EXPECT_EQ(url.substr(url.size() - suffix.size()), suffix);
  auto want = botocore(
      "{\"url\":\"https://kafka.eu-west-1.amazonaws.com/"
      "?Action=kafka-cluster%3A"
      "Connect\",\"access_key\":"
      + json_str(c.access_key) + ",\"secret_key\":" + json_str(c.secret_key)
      + ",\"token\":" + json_str(c.session_token)
      + ",\"region\":\"eu-west-1\",\"service\":\"kafka-cluster\",\"now\":"
        "1700000000,\"presign_expires\":900}");
  EXPECT_EQ(url.substr(0, url.size() - suffix.size()) + "\n", want);
}
