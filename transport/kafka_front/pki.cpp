#include "transport/kafka_front/pki.hpp"

#include <memory>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace kesm::transport::kafka_front {

namespace {

struct pkey_deleter {
  void operator()(EVP_PKEY* p) const noexcept {
    EVP_PKEY_free(p);
  }
};
struct x509_deleter {
  void operator()(X509* p) const noexcept {
    X509_free(p);
  }
};
struct bio_deleter {
  void operator()(BIO* p) const noexcept {
    BIO_free(p);
  }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

codecs::error failed(const std::string& what) {
  return codecs::error{codecs::errc::invalid_parameter,
                       "cannot make a test certificate: " + what};
}

std::string drain(BIO* bio) {
  char* data = nullptr;
  auto n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string key_pem(EVP_PKEY* key) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                           nullptr);
  return drain(bio.get());
}

std::string cert_pem(X509* cert) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  PEM_write_bio_X509(bio.get(), cert);
  return drain(bio.get());
}

bool add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  auto* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr)
    return false;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return true;
}

/// A certificate for `key` named `cn`, valid [now + from_s, now + to_s].
x509_ptr new_cert(EVP_PKEY* key, const std::string& cn, long from_s,
                  long to_s) {
  x509_ptr cert{X509_new()};
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  auto* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), from_s);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), to_s);
  X509_set_pubkey(cert.get(), key);
  auto* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()),
                             -1, -1, 0);
  return cert;
}

codecs::expected<pkey_ptr> read_key(const std::string& pem) {
  bio_ptr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  pkey_ptr key{PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)};
  if (!key)
    return failed("unreadable CA key");
  return key;
}

codecs::expected<x509_ptr> read_cert(const std::string& pem) {
  bio_ptr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  x509_ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
  if (!cert)
    return failed("unreadable CA certificate");
  return cert;
}

constexpr long day = 86400;

} // namespace

codecs::expected<pem_pair> make_ca(const std::string& common_name) {
  pkey_ptr key{EVP_EC_gen("P-256")};
  if (!key)
    return failed("EC key generation");
  auto cert = new_cert(key.get(), common_name, -3600, 3650 * day);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  if (!add_ext(cert.get(), cert.get(), NID_basic_constraints,
               "critical,CA:TRUE")
      || !add_ext(cert.get(), cert.get(), NID_key_usage,
                  "critical,keyCertSign,cRLSign")
      || !add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash"))
    return failed("CA extensions");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    return failed("signing the CA");
  return pem_pair{cert_pem(cert.get()), key_pem(key.get())};
}

codecs::expected<pem_pair> issue(const pem_pair& ca,
                                 const std::string& common_name, bool server,
                                 int valid_days) {
  auto ca_key = read_key(ca.private_key);
  if (!ca_key)
    return ca_key.err();
  auto ca_cert = read_cert(ca.certificate);
  if (!ca_cert)
    return ca_cert.err();
  pkey_ptr key{EVP_EC_gen("P-256")};
  if (!key)
    return failed("EC key generation");
  long from = valid_days < 0 ? (valid_days - 30) * day : -3600;
  long to = valid_days * day;
  auto cert = new_cert(key.get(), common_name, from, to);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert->get()));
  bool ok = add_ext(cert.get(), ca_cert->get(), NID_basic_constraints,
                    "critical,CA:FALSE")
            && add_ext(cert.get(), ca_cert->get(), NID_authority_key_identifier,
                       "keyid")
            && add_ext(cert.get(), ca_cert->get(), NID_ext_key_usage,
                       server ? "serverAuth" : "clientAuth");
  if (ok && server)
    ok = add_ext(cert.get(), ca_cert->get(), NID_subject_alt_name,
                 "IP:127.0.0.1,DNS:localhost");
  if (!ok)
    return failed("certificate extensions");
  if (X509_sign(cert.get(), ca_key->get(), EVP_sha256()) == 0)
    return failed("signing the certificate");
  return pem_pair{cert_pem(cert.get()), key_pem(key.get())};
}

codecs::expected<throwaway_pki> throwaway_pki::make() {
  throwaway_pki out;
  auto ca = make_ca("kesm throwaway CA");
  if (!ca)
    return ca.err();
  out.ca = std::move(*ca);
  auto server = issue(out.ca, "localhost", true);
  if (!server)
    return server.err();
  out.server = std::move(*server);
  auto client = issue(out.ca, "kesm-client", false);
  if (!client)
    return client.err();
  out.client = std::move(*client);
  return out;
}

codecs::expected<std::string> encrypt_key(const std::string& key_pem,
                                          const std::string& password) {
  auto key = read_key(key_pem);
  if (!key)
    return key.err();
  bio_ptr bio{BIO_new(BIO_s_mem())};
  if (PEM_write_bio_PKCS8PrivateKey(
          bio.get(), key->get(), EVP_aes_256_cbc(), password.data(),
          static_cast<int>(password.size()), nullptr, nullptr)
      == 0)
    return failed("encrypting the key");
  return drain(bio.get());
}

} // namespace kesm::transport::kafka_front
