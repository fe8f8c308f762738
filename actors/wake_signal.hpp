#pragma once

#include <atomic>

#include <caf/all.hpp>
#include <librdkafka/rdkafka.h>

#include "actors/atoms.hpp"
#include "transport/kafka.hpp"

namespace kesm::actors {

/// Turns "a librdkafka queue became non-empty" into one `wake_atom` message
/// for an actor, with at most one wake-up outstanding: the actor calls
/// `rearm()` once it has drained, so an enqueue after that wakes it again,
/// and a burst of enqueues costs one message. What was enqueued between
/// the drain and `rearm()` sent nothing (the signal was still pending):
/// the actor looks at the queue after re-arming and, if it is not empty,
/// wakes itself unless `claim()` says a wake-up is on its way already.
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

  static void on_event(rd_kafka_t*, void* opaque) {
    auto* sig = static_cast<wake_signal*>(opaque);
    if (!sig->pending.exchange(true, std::memory_order_acq_rel))
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
