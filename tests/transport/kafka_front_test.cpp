// The TLS/SASL front of the embedded broker: its SCRAM server against RFC
// 7677's vector, the protocol rewrites, and real librdkafka clients
// producing through it with each mechanism, a client certificate, and
// wrong credentials.
#include "transport/kafka_front/front.hpp"
#include "transport/kafka_front/scram.hpp"
#include "transport/kafka_front/wire.hpp"

#include <gtest/gtest.h>

#include "codecs/base64.hpp"
#include "transport/embedded_broker.hpp"
#include "transport/producer.hpp"

using namespace kesm;
using namespace kesm::transport;
using namespace kesm::transport::kafka_front;

namespace {

std::optional<std::string> pencil(const std::string& user) {
  if (user == "user")
    return std::string("pencil");
  return std::nullopt;
}

std::string unb64(const std::string& s) {
  std::string out;
  codecs::base64_decode(s.data(), s.size(), out);
  return out;
}

const std::string rfc_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const std::string rfc_salt = unb64("W22ZaJ0SNY7soEsUEjb6gQ==");
const std::string rfc_client_first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
const std::string rfc_client_final
    = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

} // namespace

TEST(scram, answers_rfc_7677_test_vector) {
  scram_server s{256, pencil, rfc_nonce, rfc_salt};
  auto first = s.first(rfc_client_first);
  ASSERT_TRUE(first) << first.err().message;
  EXPECT_EQ(*first, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  auto last = s.final(rfc_client_final);
  ASSERT_TRUE(last) << last.err().message;
  EXPECT_EQ(*last, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  EXPECT_EQ(s.user(), "user");
}

TEST(scram, refuses_a_wrong_password_an_unknown_user_and_a_foreign_nonce) {
  auto wrong = [](const std::string&) {
    return std::optional<std::string>("pencil2");
  };
  scram_server bad_pw{256, wrong, rfc_nonce, rfc_salt};
  ASSERT_TRUE(bad_pw.first(rfc_client_first));
  EXPECT_FALSE(bad_pw.final(rfc_client_final));
  scram_server unknown{256, pencil, rfc_nonce, rfc_salt};
  ASSERT_TRUE(unknown.first("n,,n=nobody,r=rOprNGfwEbeRWgbNEkqO"));
  EXPECT_FALSE(unknown.final(rfc_client_final));
  scram_server nonce{256, pencil, "other", rfc_salt};
  ASSERT_TRUE(nonce.first(rfc_client_first));
  EXPECT_FALSE(nonce.final(rfc_client_final));
  EXPECT_FALSE(scram_server(256, pencil).first("garbage"));
}

TEST(scram, sha_512_round_trip_with_the_client_proof) {
  scram_server s{512, pencil, "srv", "salty"};
  auto first = s.first("n,,n=user,r=cli");
  ASSERT_TRUE(first);
  std::string without_proof = "c=biws,r=clisrv";
  auto proof
      = scram_client_proof(512, "pencil", "salty", 4096,
                           "n=user,r=cli," + *first + "," + without_proof);
  EXPECT_TRUE(s.final(without_proof + ",p=" + proof));
}

namespace {

std::string be(int64_t v, size_t n) {
  std::string out;
  for (size_t i = n; i-- > 0;)
    out += static_cast<char>((static_cast<uint64_t>(v) >> (i * 8)) & 0xff);
  return out;
}
std::string str(const std::string& s) {
  return be(static_cast<int64_t>(s.size()), 2) + s;
}

} // namespace

TEST(kafka_wire, metadata_and_coordinator_point_at_the_front) {
  std::map<int32_t, int32_t> ports{{9092, 19092}};
  // Metadata v1: brokers [id, host, port, rack], controller, topics...
  std::string tail = be(1, 4) + be(0, 4);
  std::string v1 = be(1, 4) + be(1, 4) + str("broker.internal") + be(9092, 4)
                   + be(-1, 2) + tail;
  auto out = rewrite_response(api::metadata, 1, v1, "127.0.0.1", ports, true);
  EXPECT_EQ(out, be(1, 4) + be(1, 4) + str("127.0.0.1") + be(19092, 4)
                     + be(-1, 2) + tail);
  // FindCoordinator v1: throttle, error, message, node, host, port.
  std::string fc = be(0, 4) + be(0, 2) + be(-1, 2) + be(1, 4)
                   + str("broker.internal") + be(9092, 4);
  EXPECT_EQ(
      rewrite_response(api::find_coordinator, 1, fc, "127.0.0.1", ports, true),
      be(0, 4) + be(0, 2) + be(-1, 2) + be(1, 4) + str("127.0.0.1")
          + be(19092, 4));
  // Unknown ports and unreadable bodies pass unchanged.
  EXPECT_EQ(rewrite_response(api::metadata, 1, "\x01", "h", ports, true),
            "\x01");
}

TEST(kafka_wire, api_versions_offer_sasl_and_cap_rewritten_apis) {
  std::string body = be(0, 2) + be(2, 4) + be(3, 2) + be(0, 2) + be(12, 2)
                     + be(1, 2) + be(0, 2) + be(11, 2) + be(0, 4);
  auto out = rewrite_response(api::api_versions, 2, body, "h", {}, true);
  std::string want = be(0, 2) + be(4, 4) + be(3, 2) + be(0, 2) + be(8, 2)
                     + be(1, 2) + be(0, 2) + be(11, 2) + be(17, 2) + be(0, 2)
                     + be(1, 2) + be(36, 2) + be(0, 2) + be(1, 2) + be(0, 4);
  EXPECT_EQ(out, want);
  // An error answer (client asked a newer version) passes unchanged.
  std::string err = be(35, 2) + be(0, 4);
  EXPECT_EQ(rewrite_response(api::api_versions, 3, err, "h", {}, true), err);
}

namespace {

struct secured {
  embedded_broker broker = std::move(*embedded_broker::start(1));
  throwaway_pki pki = std::move(*throwaway_pki::make());
  std::unique_ptr<secure_front> front;

  explicit secured(front_options opts, bool client_certificates = false) {
    broker.create_topic("t", 1);
    opts.server = pki.server;
    if (client_certificates)
      opts.client_ca = pki.ca.certificate;
    front = std::move(*secure_front::start(broker.bootstrap(), opts));
  }

  /// Whether 5 records produced with `props` are acknowledged in 4 s.
  bool produce(kafka_props props) {
    props["message.timeout.ms"] = "4000";
    props["ssl.ca.pem"] = pki.ca.certificate;
    auto p = producer::connect(front->bootstrap(), props);
    if (!p)
      return false;
    outgoing_record r;
    r.topic = "t";
    r.value = "v";
    for (int i = 0; i < 5; ++i)
      p->produce(r);
    return static_cast<bool>(p->flush(6000));
  }
};

kafka_props sasl(const std::string& mech, const std::string& password) {
  return {{"security.protocol", "SASL_SSL"},
          {"sasl.mechanism", mech},
          {"sasl.username", "alice"},
          {"sasl.password", password}};
}

} // namespace

TEST(kafka_front, every_sasl_mechanism_authenticates_and_relays) {
  for (std::string mech : {"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"}) {
    front_options o;
    o.mechanisms = {mech};
    o.users = {{"alice", "s3cret-" + mech}};
    secured s{o};
    EXPECT_TRUE(s.produce(sasl(mech, "s3cret-" + mech))) << mech;
    EXPECT_GE(s.front->accepted(), 1u) << mech;
    EXPECT_EQ(s.front->refused(), 0u) << mech;
  }
}

TEST(kafka_front, a_wrong_password_is_refused_then_accepted_after_a_fix) {
  front_options o;
  o.mechanisms = {"SCRAM-SHA-512"};
  o.users = {{"alice", "right"}};
  secured s{o};
  EXPECT_FALSE(s.produce(sasl("SCRAM-SHA-512", "wrong")));
  EXPECT_GE(s.front->refused(), 1u);
  s.front->set_password("alice", "wrong");
  EXPECT_TRUE(s.produce(sasl("SCRAM-SHA-512", "wrong")));
}

TEST(kafka_front, client_certificates_are_required_when_asked) {
  secured s{front_options{}, true};
  // A client signed by another CA, or none, is refused.
  auto other = throwaway_pki::make();
  ASSERT_TRUE(other);
  auto foreign = issue(other->ca, "stranger", false);
  ASSERT_TRUE(foreign);
  kafka_props none{{"security.protocol", "SSL"}};
  EXPECT_FALSE(s.produce(none));
  kafka_props stranger{{"security.protocol", "SSL"},
                       {"ssl.certificate.pem", foreign->certificate},
                       {"ssl.key.pem", foreign->private_key}};
  EXPECT_FALSE(s.produce(stranger));
  EXPECT_GE(s.front->refused(), 2u);
  auto mine = issue(s.pki.ca, "kesm-client", false);
  ASSERT_TRUE(mine);
  auto locked = encrypt_key(mine->private_key, "keypass");
  ASSERT_TRUE(locked);
  EXPECT_NE(locked->find("ENCRYPTED PRIVATE KEY"), std::string::npos);
  kafka_props ok{{"security.protocol", "SSL"},
                 {"ssl.certificate.pem", mine->certificate},
                 {"ssl.key.pem", *locked},
                 {"ssl.key.password", "keypass"}};
  EXPECT_TRUE(s.produce(ok));
}
