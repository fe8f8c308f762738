#pragma once

#include <string>

#include "codecs/expected.hpp"

namespace kesm::transport::kafka_front {

/// A certificate and its private key, PEM (the key PKCS#8).
struct pem_pair {
  std::string certificate;
  std::string private_key;
};

/// A throwaway certificate authority made at run time, for the TLS front
/// of the embedded broker and its tests: never written to the repository.
/// EC P-256 keys, SHA-256 signatures.
///
/// Lifecycle: a value; thread-safe to use from any thread once made.
struct throwaway_pki {
  pem_pair ca;
  /// For 127.0.0.1 and localhost (subjectAltName), signed by `ca`.
  pem_pair server;
  /// A client certificate (CN `kesm-client`), signed by `ca`.
  pem_pair client;

  /// A fresh CA, server and client certificate, valid from an hour ago
  /// for a year.
  static codecs::expected<throwaway_pki> make();
};

/// A certificate for `common_name` signed by `ca`; `server` adds the
/// 127.0.0.1/localhost names. `valid_days` < 0 makes one that expired
/// that many days ago (for expiry tests).
codecs::expected<pem_pair> issue(const pem_pair& ca,
                                 const std::string& common_name, bool server,
                                 int valid_days = 365);

/// A self-signed CA certificate.
codecs::expected<pem_pair> make_ca(const std::string& common_name);

/// `key_pem` (PKCS#8) encrypted with `password` (AES-256-CBC), as an
/// `ENCRYPTED PRIVATE KEY` PEM.
codecs::expected<std::string> encrypt_key(const std::string& key_pem,
                                          const std::string& password);

} // namespace kesm::transport::kafka_front
