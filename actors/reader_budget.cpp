#include "actors/reader_budget.hpp"

#include <algorithm>
#include <vector>

namespace kesm::actors {

namespace {

void run_all(std::vector<std::function<void()>>& wakes) {
  for (auto& w : wakes)
    if (w)
      w();
}

} // namespace

std::shared_ptr<reader_budget::share>
reader_budget::open(std::function<void()> wake) {
  auto s = std::make_shared<share>();
  s->wake_ = std::move(wake);
  return s;
}

reader_budget::answer reader_budget::ask(const std::shared_ptr<share>& sp) {
  auto& s = *sp;
  std::lock_guard<std::mutex> guard{mtx_};
  if (s.closed_)
    return answer::at_cap;
  auto granted = s.granted_.load(std::memory_order_relaxed);
  // A budget under one step grants nothing: the floors are all there is.
  if (granted + step > std::min(per_reader_, total_))
    return answer::at_cap;
  if (s.waiting_)
    return answer::queued;
  if (queue_.empty() && free_ >= step) {
    free_ -= step;
    s.granted_.store(granted + step, std::memory_order_release);
    peak_ = std::max(peak_, total_ - free_);
    return answer::granted;
  }
  // Queued behind the others; `give_locked` grants it in turn.
  s.waiting_ = true;
  queue_.push_back(sp);
  return answer::queued;
}

void reader_budget::settle(share& s, size_t held, size_t floor) {
  auto granted = s.granted_.load(std::memory_order_acquire);
  if (granted == 0)
    return;
  size_t keep = 0;
  if (held > floor) {
    auto over = held - floor;
    keep = (over + step - 1) / step * step + step;
  }
  if (keep >= granted)
    return;
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    give_locked(s, granted - keep, wakes);
  }
  run_all(wakes);
}

void reader_budget::close(share& s) {
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    s.closed_ = true;
    if (s.waiting_) {
      s.waiting_ = false;
      queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                                  [&](const auto& q) { return q.get() == &s; }),
                   queue_.end());
    }
    give_locked(s, s.granted_.load(std::memory_order_relaxed), wakes);
    s.wake_ = nullptr;
  }
  run_all(wakes);
}

void reader_budget::give_locked(share& s, size_t bytes,
                                std::vector<std::function<void()>>& wakes) {
  bytes = std::min(bytes, s.granted_.load(std::memory_order_relaxed));
  s.granted_.fetch_sub(bytes, std::memory_order_release);
  free_ += bytes;
  while (!queue_.empty() && free_ >= step) {
    auto& head = *queue_.front();
    queue_.pop_front();
    head.waiting_ = false;
    free_ -= step;
    head.granted_.fetch_add(step, std::memory_order_release);
    peak_ = std::max(peak_, total_ - free_);
    wakes.push_back(head.wake_);
  }
}

size_t reader_budget::free() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return free_;
}

size_t reader_budget::peak_granted() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return peak_;
}

} // namespace kesm::actors
