#include "transport/http_client.hpp"

#include <algorithm>
#include <cstring>

#include <curl/curl.h>

namespace kesm::transport {

struct http_client::request {
  std::string url;
  std::shared_ptr<const std::string> body;
  long timeout_ms = 0;
  invocation_callback done;
  invocation_result result;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
};

namespace {

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
  auto* res = static_cast<invocation_result*>(user);
  constexpr char name[] = "x-amz-function-error:";
  constexpr size_t len = sizeof(name) - 1;
  if (size * n >= len && strncasecmp(data, name, len) == 0)
    res->function_error = true;
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
                       long timeout_ms, invocation_callback done) {
  auto req = std::make_unique<request>();
  req->url = std::move(url);
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
      curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
      curl_easy_setopt(easy, CURLOPT_PRIVATE, req);
      curl_multi_add_handle(multi, easy);
      inflight.push_back(req);
    }
    if (stop) {
      // Shutting down: in-flight calls end now, as failures.
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
      } else if (req->result.answer_too_large) {
        req->result.status = 0;
        req->result.body.clear();
        req->result.error = "the function's answer exceeds the "
                            + std::to_string(max_answer_bytes)
                            + "-byte response limit";
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
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  for (CURL* e : idle)
    curl_easy_cleanup(e);
}

http_target::http_target(std::shared_ptr<http_client> client, std::string url,
                         int timeout_seconds)
  : client_(std::move(client)),
    url_(std::move(url)),
    timeout_ms_(static_cast<long>(timeout_seconds) * 1000) {
  // nop
}

void http_target::invoke(std::shared_ptr<const std::string> payload,
                         invocation_callback done) {
  client_->post(url_, std::move(payload), timeout_ms_, std::move(done));
}

} // namespace kesm::transport
