#include "transport/inprocess_target.hpp"

#include <exception>

namespace kesm::transport {

inprocess_target::inprocess_target(std::string name, inprocess_handler handler,
                                   size_t threads)
  : name_(std::move(name)), handler_(std::move(handler)) {
  for (size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { run(); });
}

inprocess_target::~inprocess_target() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void inprocess_target::invoke(std::shared_ptr<const std::string> payload,
                              invocation_callback done) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    jobs_.push_back(job{std::move(payload), std::move(done)});
  }
  cv_.notify_one();
}

void inprocess_target::run() {
  for (;;) {
    job j;
    {
      std::unique_lock<std::mutex> lock{mtx_};
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty())
        return;
      j = std::move(jobs_.front());
      jobs_.pop_front();
    }
    invocation_result res;
    try {
      res = handler_(*j.payload);
    } catch (const std::exception& e) {
      res = invocation_result{};
      res.status = 200;
      res.function_error = true;
      res.body = e.what();
    }
    if (res.body.size() > max_answer_bytes) {
      res = invocation_result{};
      res.answer_too_large = true;
      res.error = answer_too_large_error();
    }
    j.done(std::move(res));
  }
}

} // namespace kesm::transport
