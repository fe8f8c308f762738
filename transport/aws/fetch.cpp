#include "transport/aws/fetch.hpp"

#include <algorithm>
#include <cctype>

#include <curl/curl.h>

#include "transport/aws/sigv4.hpp"

namespace kesm::transport::aws {

namespace {

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<fetch_answer*>(user);
  if (out->body.size() + size * n > 16 * 1024 * 1024)
    return 0;
  out->body.append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<fetch_answer*>(user);
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    auto name = ascii_lower(line.substr(0, colon));
    auto value = line.substr(colon + 1);
    auto b = value.find_first_not_of(" \t");
    auto e = value.find_last_not_of(" \t\r\n");
    out->headers.emplace_back(name, b == std::string::npos
                                        ? std::string()
                                        : value.substr(b, e - b + 1));
  }
  return size * n;
}

} // namespace

std::string fetch_answer::header(const std::string& lower_name) const {
  for (auto& [k, v] : headers)
    if (k == lower_name)
      return v;
  return {};
}

fetch_answer
fetch(const std::string& method, const std::string& url,
      const std::vector<std::pair<std::string, std::string>>& headers,
      const std::string& body, long timeout_ms, const fetch_tls* tls) {
  fetch_answer out;
  CURL* easy = curl_easy_init();
  curl_slist* list = curl_slist_append(nullptr, "Expect:");
  for (auto& [k, v] : headers)
    list = curl_slist_append(list, (k + ": " + v).c_str());
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method != "GET") {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &out);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_blob ca{}, cert{}, key{};
  if (tls != nullptr) {
    auto blob = [](curl_blob& b, const std::string& pem) {
      b.data = const_cast<char*>(pem.data());
      b.len = pem.size();
      b.flags = CURL_BLOB_NOCOPY;
    };
    if (!tls->ca_pem.empty()) {
      blob(ca, tls->ca_pem);
      curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &ca);
    }
    if (!tls->cert_pem.empty()) {
      blob(cert, tls->cert_pem);
      curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (!tls->key_pem.empty()) {
      blob(key, tls->key_pem);
      curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &key);
      curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (!tls->key_password.empty())
      curl_easy_setopt(easy, CURLOPT_KEYPASSWD, tls->key_password.c_str());
  }
  auto code = curl_easy_perform(easy);
  if (code == CURLE_OK)
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &out.status);
  else
    out.error = curl_easy_strerror(code);
  curl_slist_free_all(list);
  curl_easy_cleanup(easy);
  return out;
}

} // namespace kesm::transport::aws
