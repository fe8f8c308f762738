#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace kesm::actors {

/// Bytes the partition readers of one mapping may hold beyond their own
/// floors (`mapping_options::reader_budget`), shared by all of them: a
/// busy reader holds as much as it needs (up to `per_reader` bytes) while
/// the readers' total stays within the budget, whatever the number of
/// partitions. Before it, the budget was split evenly over the partitions
/// with a 1 MB floor each, so 256 partitions could hold 256 MB and a lone
/// busy partition of 64 only 1 MB.
///
/// A reader asks for one `step` at a time when it reaches its limit. A
/// step is granted at once when free and nobody waits; else the reader
/// queues, first come first served, and its `wake` runs once a step
/// returned by another reader is granted to it. Readers give steps back
/// as their batches finish, keeping one spare step while they hold more
/// than their floor, none once they hold no more than it.
///
/// Thread-safe: one mutex, taken once per step asked or given (about 400
/// 100-byte records), never while a wake runs.
class reader_budget {
public:
  static constexpr size_t step = 256 * 1024;

  /// One reader's grant. Read by its reader; changed under the budget's
  /// lock.
  class share {
  public:
    size_t granted() const noexcept {
      return granted_.load(std::memory_order_acquire);
    }

  private:
    friend class reader_budget;
    std::atomic<size_t> granted_{0};
    bool waiting_ = false;
    bool closed_ = false;
    std::function<void()> wake_;
  };

  /// `total` bytes shared; no reader gets more than `per_reader`.
  explicit reader_budget(size_t total, size_t per_reader = size_t{12} << 20)
      : total_(total), free_(total), per_reader_(per_reader) {
    // nop
  }

  /// A share for a new reader; `wake` runs (on the thread that gives a
  /// step back) when a step it waited for is granted.
  std::shared_ptr<share> open(std::function<void()> wake);

  enum class answer {
    granted, ///< one more step, now
    queued,  ///< waits for a step (again: still waiting); `wake` will run
    at_cap,  ///< holds `per_reader` already (or the budget is under one
             ///< step): wait for its own batches
  };

  /// Asks for one more step for `s`.
  answer ask(const std::shared_ptr<share>& s);

  /// Gives back what `s` no longer needs while its reader holds `held`
  /// bytes over a floor of `floor` bytes: all of it at or under the floor,
  /// else all but what covers `held` plus one spare step.
  void settle(share& s, size_t held, size_t floor);

  /// Gives back all of `s` and leaves the queue; nothing is granted to it
  /// after (its reader stopped).
  void close(share& s);

  size_t total() const noexcept {
    return total_;
  }
  /// Bytes not granted to any reader now.
  size_t free() const;
  /// The most ever granted at once.
  size_t peak_granted() const;

private:
  /// Returns `bytes` of `s`'s grant and grants steps to the queue's head;
  /// the wakes to run once the lock is released go to `wakes`.
  void give_locked(share& s, size_t bytes,
                   std::vector<std::function<void()>>& wakes);

  mutable std::mutex mtx_;
  const size_t total_;
  size_t free_;
  const size_t per_reader_;
  size_t peak_ = 0;
  std::deque<std::shared_ptr<share>> queue_;
};

using reader_budget_ptr = std::shared_ptr<reader_budget>;

} // namespace kesm::actors
