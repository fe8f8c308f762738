#pragma once

#include <atomic>

#include <caf/all.hpp>
#include <librdkafka/rdkafka.h>

#include "actors/atoms.hpp"
#include "transport/kafka.hpp"

namespace kesm::actors {

/// Turns "a librdkafka queue became non-empty" into one `wake_atom` message
/// for an actor, with at most one wake-up outstanding, so a burst of
/// enqueues costs one message. The actor re-arms it either before it
/// drains (`rearm()`: an enqueue during the drain may send a wake-up that
/// finds nothing) or after (`rearm_after_take()`, the partition readers:
/// it also looks at the queue, since what was enqueued between the take
/// and the re-arm sent nothing).
///
/// librdkafka calls `on_event` from its own threads. The owner must keep
/// the signal alive until the queue's callback is disabled (see
/// `watched_queue`) and the client is destroyed.
struct wake_signal {
  /// `pending`: start as if a wake-up were on its way (the owner sends the
  /// first one itself and looks at the queue then).
  explicit wake_signal(caf::actor t, bool pending = false)
    : target(std::move(t)), pending(pending) {
    // nop
  }

  caf::actor target;
  std::atomic<bool> pending{false};

  /// True: re-armed and nothing enqueued since, so the queue holds
  /// nothing new (for owners that re-arm after draining, see
  /// `partition_reader`).
  bool armed_and_quiet() const noexcept {
    return !pending.load(std::memory_order_acquire);
  }

  void rearm() noexcept {
    pending.store(false, std::memory_order_release);
  }

  /// True if the caller may send the wake-up itself (none is on its way);
  /// the signal is pending again either way.
  bool claim() noexcept {
    return !pending.exchange(true, std::memory_order_acq_rel);
  }

  /// Re-arms after a take from `q`; true if `q` is not empty and no
  /// wake-up is on its way: the caller must wake itself (the signal is
  /// pending again then). An enqueue after the re-arm wakes the actor.
  bool rearm_after_take(rd_kafka_queue_t* q) noexcept {
    rearm();
    return rd_kafka_queue_length(q) > 0 && claim();
  }

  static void on_event(rd_kafka_t*, void* opaque) {
    auto* sig = static_cast<wake_signal*>(opaque);
    if (sig->claim())
      caf::anon_send(sig->target, wake_atom_v);
  }
};

/// A librdkafka queue with a `wake_signal` attached by `watch`; detaching
/// happens in the destructor, under the queue's lock, so no callback runs
/// after it.
class watched_queue {
public:
  explicit watched_queue(transport::queue_ptr q) : q_(std::move(q)) {
    // nop
  }
  void watch(wake_signal* sig) {
    rd_kafka_queue_cb_event_enable(q_.get(), &wake_signal::on_event, sig);
  }
  ~watched_queue() {
    rd_kafka_queue_cb_event_enable(q_.get(), nullptr, nullptr);
  }
  watched_queue(const watched_queue&) = delete;
  watched_queue& operator=(const watched_queue&) = delete;

  rd_kafka_queue_t* get() const noexcept {
    return q_.get();
  }

private:
  transport::queue_ptr q_;
};

} // namespace kesm::actors
