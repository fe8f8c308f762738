#include "transport/http_client.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>

#include <curl/curl.h>

#include "transport/aws/signer.hpp"
#include "transport/aws/sigv4.hpp"
#include "transport/plain_http.hpp"

namespace kesm::transport {

struct http_client::request {
  std::string url;
  std::vector<std::string> extra_headers;
  std::string ca_file;
  std::shared_ptr<const std::string> body;
  long timeout_ms = 0;
  invocation_callback done;
  invocation_result result;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
};

namespace {

/// curl's upload buffer, per connection (curl's default is 64 KB).
constexpr long upload_buffer_bytes = 512L * 1024;

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* res = static_cast<invocation_result*>(user);
  if (res->body.size() + size * n > max_answer_bytes) {
    res->answer_too_large = true;
    return 0; // curl ends the call: CURLE_WRITE_ERROR
  }
  res->body.append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  read_answer_header(data, size * n, *static_cast<invocation_result*>(user));
  return size * n;
}

struct curl_global {
  curl_global() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
  }
};

} // namespace

http_client::http_client() {
  static curl_global init;
  multi_ = curl_multi_init();
  curl_multi_setopt(static_cast<CURLM*>(multi_), CURLMOPT_MAXCONNECTS, 64L);
  plain_ = std::make_unique<plain_http>();
  thread_ = std::thread([this] { run(); });
}

http_client::~http_client() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  thread_.join();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void http_client::post(std::string url,
                       std::shared_ptr<const std::string> body,
                       long timeout_ms, invocation_callback done,
                       std::vector<std::string> headers, std::string ca_file) {
  auto req = std::make_unique<request>();
  req->url = std::move(url);
  req->extra_headers = std::move(headers);
  req->ca_file = std::move(ca_file);
  req->body = std::move(body);
  req->timeout_ms = timeout_ms;
  req->done = std::move(done);
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!stopping_) {
      pending_.push_back(std::move(req));
      req = nullptr;
    }
  }
  if (req) {
    req->result.error = "kesm is shutting down";
    req->done(std::move(req->result));
    return;
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

void http_client::run() {
  auto multi = static_cast<CURLM*>(multi_);
  std::vector<CURL*> idle; // reused easy handles keep their connections warm
  std::vector<request*> inflight;
  for (;;) {
    std::deque<std::unique_ptr<request>> fresh;
    bool stop;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      fresh.swap(pending_);
      stop = stopping_;
    }
    for (auto& ptr : fresh) {
      if (ptr->ca_file.empty()
          && plain_->start(ptr->url, ptr->extra_headers, ptr->body,
                           ptr->timeout_ms, ptr->done)) {
        plain_calls_.fetch_add(1, std::memory_order_relaxed);
        continue; // plain_http completes it
      }
      auto* req = ptr.release();
      CURL* easy;
      if (idle.empty()) {
        easy = curl_easy_init();
      } else {
        easy = idle.back();
        idle.pop_back();
        curl_easy_reset(easy);
      }
      req->easy = easy;
      req->headers = curl_slist_append(nullptr, "Content-Type: application/json");
      // No "Expect: 100-continue" round trip for bodies over 1 KB.
      req->headers = curl_slist_append(req->headers, "Expect:");
      for (auto& h : req->extra_headers)
        req->headers = curl_slist_append(req->headers, h.c_str());
      if (!req->ca_file.empty())
        curl_easy_setopt(easy, CURLOPT_CAINFO, req->ca_file.c_str());
      curl_easy_setopt(easy, CURLOPT_URL, req->url.c_str());
      curl_easy_setopt(easy, CURLOPT_HTTPHEADER, req->headers);
      curl_easy_setopt(easy, CURLOPT_POST, 1L);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body->data());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(req->body->size()));
      curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
      curl_easy_setopt(easy, CURLOPT_WRITEDATA, &req->result);
      curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
      curl_easy_setopt(easy, CURLOPT_HEADERDATA, &req->result);
      curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, req->timeout_ms);
      curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
      // A body over 64 KB goes through curl's upload buffer: by default
      // 64 KB a copy and a send(), seven for a 1,000-record event of 100 B
      // records (~400 KB). docs/benchmarks.md, "Upload buffer".
      curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, upload_buffer_bytes);
      curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
      curl_easy_setopt(easy, CURLOPT_PRIVATE, req);
      curl_multi_add_handle(multi, easy);
      inflight.push_back(req);
    }
    if (stop) {
      // Shutting down: in-flight calls end now, as failures.
      plain_->fail_all("kesm is shutting down");
      for (auto* req : inflight) {
        curl_multi_remove_handle(multi, req->easy);
        curl_easy_cleanup(req->easy);
        curl_slist_free_all(req->headers);
        std::unique_ptr<request> owned{req};
        owned->result = invocation_result{};
        owned->result.error = "kesm is shutting down";
        owned->done(std::move(owned->result));
      }
      break;
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      request* req = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &req);
      auto code = msg->data.result;
      if (code == CURLE_OK) {
        long status = 0, connects = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_NUM_CONNECTS, &connects);
        req->result.status = static_cast<int>(status);
        req->result.new_connections = static_cast<int>(connects);
        // A host name curl resolved: plain_http takes the next calls.
        char* ip = nullptr;
        long port = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIMARY_IP, &ip);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIMARY_PORT, &port);
        plain_->learn(req->url, ip, port);
      } else if (req->result.answer_too_large) {
        req->result.status = 0;
        req->result.body.clear();
        req->result.error = answer_too_large_error();
      } else {
        req->result.status = 0;
        req->result.timed_out = code == CURLE_OPERATION_TIMEDOUT;
        req->result.error = curl_easy_strerror(code);
      }
      curl_multi_remove_handle(multi, msg->easy_handle);
      idle.push_back(msg->easy_handle);
      curl_slist_free_all(req->headers);
      inflight.erase(std::find(inflight.begin(), inflight.end(), req));
      std::unique_ptr<request> owned{req};
      owned->done(std::move(owned->result));
    }
    auto waits = plain_->waits();
    std::vector<curl_waitfd> extra(waits.size());
    for (size_t i = 0; i < waits.size(); ++i)
      extra[i] = curl_waitfd{waits[i].fd, waits[i].events, 0};
    curl_multi_poll(multi, extra.data(), static_cast<unsigned>(extra.size()),
                    plain_->timeout_ms(1000), nullptr);
    plain_->service();
  }
  for (CURL* e : idle)
    curl_easy_cleanup(e);
}

http_target::http_target(std::shared_ptr<http_client> client, std::string url,
                         int timeout_seconds, http_target_options opts)
  : client_(std::move(client)),
    url_(std::move(url)),
    timeout_ms_(static_cast<long>(timeout_seconds) * 1000),
    opts_(std::move(opts)) {
  for (auto& [k, v] : opts_.headers)
    lines_.push_back(k + ": " + v);
  if (opts_.lambda_api)
    lines_.push_back("X-Amz-Invocation-Type: RequestResponse");
}

namespace {

/// Lambda API answers that are kesm's configuration, not the records:
/// the AWS error code and message, for PROBLEM.
void lambda_semantics(invocation_result& r) {
  if (r.status != 401 && r.status != 403 && r.status != 404)
    return;
  r.access_denied = true;
  std::string message;
  for (auto* key : {"\"message\":\"", "\"Message\":\""}) {
    auto at = r.body.find(key);
    if (at != std::string::npos) {
      at += std::strlen(key);
      message = r.body.substr(at, std::min<size_t>(
                                    r.body.find('"', at) - at, 300));
      break;
    }
  }
  r.error = "Lambda Invoke: "
            + (r.error_type.empty() ? "HTTP " + std::to_string(r.status)
                                    : r.error_type)
            + (message.empty() ? "" : ": " + message);
}

} // namespace

void http_target::invoke(std::shared_ptr<const std::string> payload,
                         invocation_callback done) {
  if (opts_.lambda_api)
    done = [inner = std::move(done)](invocation_result r) {
      lambda_semantics(r);
      inner(std::move(r));
    };
  if (!opts_.credentials) {
    client_->post(url_, std::move(payload), timeout_ms_, std::move(done),
                  lines_, opts_.ca_file);
    return;
  }
  auto creds = opts_.credentials->current(); // cached: never blocks
  if (!creds) {
    invocation_result r;
    r.access_denied = true;
    r.error = creds.err().message;
    done(std::move(r));
    return;
  }
  aws::aws_request req;
  req.url = url_;
  req.headers = {{"Content-Type", "application/json"}};
  for (auto& [k, v] : opts_.headers)
    req.headers.emplace_back(k, v);
  if (opts_.lambda_api)
    req.headers.emplace_back("X-Amz-Invocation-Type", "RequestResponse");
  req.payload_hash = aws::sha256_hex(*payload);
  aws::sign(req, *creds, opts_.region, opts_.service, std::time(nullptr));
  std::vector<std::string> lines;
  for (auto& [k, v] : req.headers)
    if (k != "Content-Type")
      lines.push_back(k + ": " + v);
  client_->post(url_, std::move(payload), timeout_ms_, std::move(done),
                std::move(lines), opts_.ca_file);
}

} // namespace kesm::transport
