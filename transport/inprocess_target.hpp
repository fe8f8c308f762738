#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "transport/function_target.hpp"

namespace kesm::transport {

/// A handler compiled into the program that embeds kesm: takes the event
/// JSON, returns what a Lambda would (status 200 and a body; set
/// `function_error` to fail the batch).
using inprocess_handler
  = std::function<invocation_result(const std::string& event)>;

/// Runs an `inprocess_handler` on a small dedicated pool, never on CAF's
/// workers. A handler that throws counts as a function error.
///
/// Lifecycle: threads start in the constructor; the destructor finishes
/// queued calls and joins. `invoke` may be called from any thread.
class inprocess_target : public function_target {
public:
  inprocess_target(std::string name, inprocess_handler handler,
                   size_t threads = 2);
  ~inprocess_target() override;

  void invoke(std::shared_ptr<const std::string> payload,
              invocation_callback done) override;

  std::string describe() const override {
    return "in-process:" + name_;
  }

private:
  struct job {
    std::shared_ptr<const std::string> payload;
    invocation_callback done;
  };

  void run();

  std::string name_;
  inprocess_handler handler_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace kesm::transport
