#include "transport/kafka_front/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "codecs/base64.hpp"

namespace kesm::transport::kafka_front {

namespace {

codecs::error refused(std::string msg) {
  return codecs::error{codecs::errc::invalid_parameter, std::move(msg)};
}

const EVP_MD* digest(int bits) {
  return bits == 512 ? EVP_sha512() : EVP_sha256();
}

std::string hmac(int bits, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(digest(bits), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
       &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string hash(int bits, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, digest(bits), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string salted_password(int bits, const std::string& password,
                            const std::string& salt, int iterations) {
  std::string out(static_cast<size_t>(EVP_MD_get_size(digest(bits))), '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, digest(bits),
                    static_cast<int>(out.size()),
                    reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string b64(std::string_view s) {
  std::string out;
  codecs::base64_append(out, s.data(), s.size());
  return out;
}

std::string random_text(size_t n) {
  static const char alphabet[]
      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string raw(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(n));
  for (auto& c : raw)
    c = alphabet[static_cast<unsigned char>(c) % 62];
  return raw;
}

/// The value of attribute `name` (`name=value`) in a comma-separated
/// SCRAM message, or nothing.
std::optional<std::string> attribute(std::string_view msg, char name) {
  size_t pos = 0;
  while (pos <= msg.size()) {
    auto end = msg.find(',', pos);
    if (end == std::string_view::npos)
      end = msg.size();
    auto part = msg.substr(pos, end - pos);
    if (part.size() >= 2 && part[0] == name && part[1] == '=')
      return std::string(part.substr(2));
    pos = end + 1;
  }
  return std::nullopt;
}

/// RFC 5802 section 5.1: "=2C" is ',' and "=3D" is '=' in a user name.
std::string unescape_user(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '=' && s.compare(i, 3, "=2C") == 0) {
      out += ',';
      i += 2;
    } else if (s[i] == '=' && s.compare(i, 3, "=3D") == 0) {
      out += '=';
      i += 2;
    } else
      out += s[i];
  }
  return out;
}

} // namespace

scram_server::scram_server(int bits, password_lookup lookup, std::string nonce,
                           std::string salt, int iterations)
    : bits_(bits), lookup_(std::move(lookup)),
      nonce_(nonce.empty() ? random_text(24) : std::move(nonce)),
      salt_(salt.empty() ? random_text(16) : std::move(salt)),
      iterations_(iterations) {
  // nop
}

codecs::expected<std::string> scram_server::first(std::string_view msg) {
  // gs2-header: "n,," (no channel binding, no authzid) or "y,,".
  if (msg.size() < 3 || (msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',')
    return refused("SCRAM: malformed client-first message");
  auto bare_at = msg.find(',', 2);
  if (bare_at == std::string_view::npos)
    return refused("SCRAM: malformed client-first message");
  client_first_bare_ = std::string(msg.substr(bare_at + 1));
  auto user = attribute(client_first_bare_, 'n');
  auto cnonce = attribute(client_first_bare_, 'r');
  if (!user || !cnonce || cnonce->empty())
    return refused("SCRAM: client-first message lacks n= or r=");
  user_ = unescape_user(*user);
  password_ = lookup_(user_);
  // An unknown user gets a normal answer and fails at the proof, so a
  // client cannot probe for names.
  nonce_ = *cnonce + nonce_;
  server_first_ = "r=" + nonce_ + ",s=" + b64(salt_)
                  + ",i=" + std::to_string(iterations_);
  return server_first_;
}

codecs::expected<std::string> scram_server::final(std::string_view msg) {
  auto proof_at = msg.rfind(",p=");
  if (server_first_.empty() || proof_at == std::string_view::npos)
    return refused("SCRAM: malformed client-final message");
  auto without_proof = msg.substr(0, proof_at);
  auto nonce = attribute(without_proof, 'r');
  // Kafka's broker checks that the final nonce *ends with* the server's:
  // librdkafka before 2.6 (Debian 12 ships 2.0.2) sends the client nonce
  // twice (its issue #4895), and real brokers accept it.
  if (!nonce || nonce->size() < nonce_.size()
      || nonce->compare(nonce->size() - nonce_.size(), nonce_.size(), nonce_)
             != 0)
    return refused("SCRAM: nonce mismatch");
  std::string proof;
  auto proof_b64 = msg.substr(proof_at + 3);
  if (!codecs::base64_decode(proof_b64.data(), proof_b64.size(), proof))
    return refused("SCRAM: malformed proof");
  if (!password_)
    return refused("SCRAM: invalid credentials");
  auto salted = salted_password(bits_, *password_, salt_, iterations_);
  auto client_key = hmac(bits_, salted, "Client Key");
  auto stored_key = hash(bits_, client_key);
  auto auth_message = client_first_bare_ + "," + server_first_ + ","
                      + std::string(without_proof);
  auto client_signature = hmac(bits_, stored_key, auth_message);
  if (proof.size() != client_signature.size())
    return refused("SCRAM: invalid credentials");
  std::string recovered(proof.size(), '\0');
  for (size_t i = 0; i < proof.size(); ++i)
    recovered[i] = static_cast<char>(proof[i] ^ client_signature[i]);
  auto check = hash(bits_, recovered);
  if (CRYPTO_memcmp(check.data(), stored_key.data(), check.size()) != 0)
    return refused("SCRAM: invalid credentials");
  auto server_key = hmac(bits_, salted, "Server Key");
  return "v=" + b64(hmac(bits_, server_key, auth_message));
}

std::string scram_client_proof(int bits, const std::string& password,
                               const std::string& salt, int iterations,
                               const std::string& auth_message) {
  auto salted = salted_password(bits, password, salt, iterations);
  auto client_key = hmac(bits, salted, "Client Key");
  auto signature = hmac(bits, hash(bits, client_key), auth_message);
  std::string proof(client_key.size(), '\0');
  for (size_t i = 0; i < proof.size(); ++i)
    proof[i] = static_cast<char>(client_key[i] ^ signature[i]);
  return b64(proof);
}

} // namespace kesm::transport::kafka_front
