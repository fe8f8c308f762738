#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
} // namespace prometheus

namespace kesm::transport {

/// One mapping's counters (esm-spec.md section 8), labelled by `uuid`.
/// prometheus-cpp counters are atomic: any thread may increment them.
struct mapping_counters {
  prometheus::Counter* polled = nullptr;
  prometheus::Counter* invoked = nullptr;
  prometheus::Counter* failed_invoke = nullptr;
  prometheus::Counter* committed = nullptr;
  prometheus::Counter* invoke_errors = nullptr;
  prometheus::Counter* polling_errors = nullptr;
  prometheus::Counter* dropped = nullptr;
  prometheus::Counter* dlq_delivered = nullptr;
  prometheus::Counter* dlq_errors = nullptr;
  prometheus::Counter* filtered_out = nullptr;
  /// Scaling (esm-spec.md sections 7 and 8); gauges set by the supervisor.
  prometheus::Gauge* pollers = nullptr;
  prometheus::Gauge* provisioned_pollers = nullptr;
  prometheus::Gauge* max_offset_lag = nullptr;
  prometheus::Gauge* sum_offset_lag = nullptr;
  prometheus::Counter* scaled_up = nullptr;
  prometheus::Counter* scaled_down = nullptr;
  prometheus::Gauge* offset_lag = nullptr;
  /// EventPollerThroughputInBytes: key, value and header bytes polled.
  prometheus::Counter* throughput_bytes = nullptr;
  /// For alerting (kesm's own): throttled invocations, failed pieces
  /// invoked again, bisections, partition revocations, rebalances.
  prometheus::Counter* throttles = nullptr;
  prometheus::Counter* retries = nullptr;
  prometheus::Counter* bisects = nullptr;
  prometheus::Counter* revocations = nullptr;
  prometheus::Counter* rebalances = nullptr;
  /// Records that failed their schema-registry check (AWS's
  /// SchemaRegistryErrorCount).
  prometheus::Counter* schema_errors = nullptr;
  /// Per invocation: its duration, its batch in records and bytes, and the
  /// age of its oldest record when the call was made.
  prometheus::Histogram* invocation_seconds = nullptr;
  prometheus::Histogram* batch_records = nullptr;
  prometheus::Histogram* batch_bytes = nullptr;
  prometheus::Histogram* record_age_seconds = nullptr;
};

/// kesm's Prometheus registry: families are built once; `add` returns the
/// counters of one mapping, `remove` drops them when it is deleted;
/// `render` is the text exposition served at `/metrics`. Thread-safe.
class metrics {
public:
  metrics();
  ~metrics();

  /// `topic` labels the per-topic lag gauge (`kesm_offset_lag`).
  mapping_counters add(const std::string& uuid,
                       const std::string& topic = {});
  void remove(const std::string& uuid, const std::string& topic = {});
  std::string render() const;

  /// `kesm_event_poller_unit{uuid,group}`: the gauge of a mapping in a
  /// poller group ("" for none); `drop_epu` removes the series when the
  /// mapping leaves the group or stops.
  prometheus::Gauge* epu(const std::string& uuid, const std::string& group);
  void drop_epu(const std::string& uuid, const std::string& group);

private:
  std::shared_ptr<prometheus::Registry> registry_;
  /// One family per member of mapping_counters, in the same order.
  std::vector<std::pair<prometheus::Counter* mapping_counters::*,
                        prometheus::Family<prometheus::Counter>*>>
    families_;
  std::vector<std::pair<prometheus::Gauge* mapping_counters::*,
                        prometheus::Family<prometheus::Gauge>*>>
    gauges_;
  prometheus::Family<prometheus::Gauge>* offset_lag_ = nullptr;
  prometheus::Family<prometheus::Counter>* scaling_ = nullptr;
  prometheus::Family<prometheus::Gauge>* epu_ = nullptr;
  std::vector<std::pair<prometheus::Histogram* mapping_counters::*,
                        prometheus::Family<prometheus::Histogram>*>>
    histograms_;
  std::vector<std::vector<double>> buckets_; // per histograms_ entry
};

/// Observes `v` on `h` when it exists.
void observe(prometheus::Histogram* h, double v);

/// Sets `g` when it exists.
void set_gauge(prometheus::Gauge* g, double v);



/// Adds `n` to `c` when it exists.
void count(prometheus::Counter* c, double n = 1);

} // namespace kesm::transport
