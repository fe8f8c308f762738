#include "transport/metrics.hpp"

#include <librdkafka/rdkafka.h>

#include <prometheus/histogram.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace kesm::transport {

namespace {

prometheus::Family<prometheus::Counter>*
family(prometheus::Registry& reg, const char* name, const char* help) {
  return &prometheus::BuildCounter().Name(name).Help(help).Register(reg);
}

} // namespace

metrics::metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  struct def {
    prometheus::Counter* mapping_counters::*member;
    const char* name;
    const char* help;
  };
  const def defs[] = {
    {&mapping_counters::polled, "kesm_polled_event_count_total",
     "PolledEventCount: records read from Kafka"},
    {&mapping_counters::invoked, "kesm_invoked_event_count_total",
     "InvokedEventCount: records sent to the function, retries included"},
    {&mapping_counters::failed_invoke, "kesm_failed_invoke_event_count_total",
     "FailedInvokeEventCount: records of failed invocations"},
    {&mapping_counters::committed, "kesm_committed_event_count_total",
     "CommittedEventCount: records whose offsets were stored for commit"},
    {&mapping_counters::invoke_errors, "kesm_invoke_error_count_total",
     "InvokeErrorCount: failed invocations"},
    {&mapping_counters::polling_errors, "kesm_polling_error_count_total",
     "PollingErrorCount: fetch errors"},
    {&mapping_counters::dropped, "kesm_dropped_event_count_total",
     "DroppedEventCount: failed records given up without a destination"},
    {&mapping_counters::dlq_delivered,
     "kesm_on_failure_destination_delivered_event_count_total",
     "OnFailureDestinationDeliveredEventCount: failed records acknowledged"
     " by the on-failure destination"},
    {&mapping_counters::dlq_errors,
     "kesm_on_failure_destination_delivery_error_count_total",
     "OnFailureDestinationDeliveryErrorCount: failed writes to the"
     " on-failure destination"},
    {&mapping_counters::filtered_out, "kesm_filtered_out_event_count_total",
     "FilteredOutEventCount: records that matched no filter"},
    {&mapping_counters::throughput_bytes,
     "kesm_event_poller_throughput_in_bytes_total",
     "EventPollerThroughputInBytes: key, value and header bytes polled"},
    {&mapping_counters::throttles, "kesm_throttle_count_total",
     "Invocations the function throttled (429, or kesm's access refused)"},
    {&mapping_counters::retries, "kesm_retry_count_total",
     "Failed records' batches invoked again"},
    {&mapping_counters::bisects, "kesm_bisect_count_total",
     "Failed batches split in two (BisectBatchOnFunctionError)"},
    {&mapping_counters::revocations, "kesm_revocation_count_total",
     "Partitions revoked from this process"},
    {&mapping_counters::rebalances, "kesm_rebalance_count_total",
     "Group rebalances seen (assignments and revocations)"},
    {&mapping_counters::schema_errors, "kesm_schema_registry_error_count_total",
     "SchemaRegistryErrorCount: records that failed their schema-registry"
     " check (no wire prefix, unknown schema, bytes that do not decode)"},
  };
  for (auto& d : defs)
    families_.emplace_back(d.member, family(*registry_, d.name, d.help));
  struct gauge_def {
    prometheus::Gauge* mapping_counters::*member;
    const char* name;
    const char* help;
  };
  const gauge_def gauges[] = {
    {&mapping_counters::pollers, "kesm_pollers",
     "Pollers (5 concurrent invocations each) the mapping runs now"},
    {&mapping_counters::provisioned_pollers, "kesm_provisioned_pollers",
     "ProvisionedPollers: pollers of a provisioned-mode mapping"},
    {&mapping_counters::max_offset_lag, "kesm_max_offset_lag",
     "MaxOffsetLag: largest lag of the partitions this process owns"},
    {&mapping_counters::sum_offset_lag, "kesm_sum_offset_lag",
     "SumOffsetLag: lag summed over the partitions this process owns"},
  };
  for (auto& g : gauges)
    gauges_.emplace_back(g.member, &prometheus::BuildGauge()
                                      .Name(g.name)
                                      .Help(g.help)
                                      .Register(*registry_));
  offset_lag_ = &prometheus::BuildGauge()
                   .Name("kesm_offset_lag")
                   .Help("OffsetLag: latest minus committed offset, summed"
                         " over the partitions this process owns")
                   .Register(*registry_);
  scaling_ = family(*registry_, "kesm_scaling_events_total",
                    "Poller count changes, by direction");
  struct hist_def {
    prometheus::Histogram* mapping_counters::*member;
    const char* name;
    const char* help;
    std::vector<double> buckets;
  };
  const hist_def hists[] = {
    {&mapping_counters::invocation_seconds, "kesm_invocation_duration_seconds",
     "Duration of each invocation",
     {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
      300, 900}},
    {&mapping_counters::batch_records, "kesm_batch_size_records",
     "Records per invocation",
     {1, 10, 50, 100, 500, 1000, 2500, 5000, 10000}},
    {&mapping_counters::batch_bytes, "kesm_batch_size_bytes",
     "Event bytes per invocation",
     {1024, 16384, 65536, 262144, 1048576, 3145728, 6291456}},
    {&mapping_counters::record_age_seconds, "kesm_record_age_seconds",
     "Age of a batch's oldest record (from its Kafka timestamp) when the"
     " function was called",
     {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 3600, 86400}},
  };
  for (auto& h : hists) {
    histograms_.emplace_back(h.member, &prometheus::BuildHistogram()
                                          .Name(h.name)
                                          .Help(h.help)
                                          .Register(*registry_));
    buckets_.push_back(h.buckets);
  }
  // Constant 1, labelled with what is running: for dashboards and alerts
  // that must tell versions apart.
  prometheus::BuildGauge()
    .Name("kesm_build_info")
    .Help("kesm's version and the libraries it runs on (value 1)")
    .Register(*registry_)
    .Add({{"version", KESM_VERSION},
          {"librdkafka", rd_kafka_version_str()},
          {"caf", "0.17.6"}})
    .Set(1);
  epu_ = &prometheus::BuildGauge()
            .Name("kesm_event_poller_unit")
            .Help("EventPollerUnit: capacity in EPUs (10 pollers or 20 MB/s,"
                  " whichever needs more), labelled by poller group")
            .Register(*registry_);
}

prometheus::Gauge* metrics::epu(const std::string& uuid,
                                const std::string& group) {
  return &epu_->Add({{"uuid", uuid}, {"group", group}});
}

void metrics::drop_epu(const std::string& uuid, const std::string& group) {
  epu_->Remove(epu(uuid, group));
}

metrics::~metrics() = default;

mapping_counters metrics::add(const std::string& uuid,
                               const std::string& topic) {
  prometheus::Labels l{{"uuid", uuid}};
  mapping_counters c;
  for (auto& [member, fam] : families_)
    c.*member = &fam->Add(l);
  for (auto& [member, fam] : gauges_)
    c.*member = &fam->Add(l);
  for (size_t i = 0; i < histograms_.size(); ++i)
    c.*histograms_[i].first = &histograms_[i].second->Add(l, buckets_[i]);
  c.offset_lag = &offset_lag_->Add({{"uuid", uuid}, {"topic", topic}});
  c.scaled_up = &scaling_->Add({{"uuid", uuid}, {"direction", "up"}});
  c.scaled_down = &scaling_->Add({{"uuid", uuid}, {"direction", "down"}});
  return c;
}

void metrics::remove(const std::string& uuid, const std::string& topic) {
  prometheus::Labels l{{"uuid", uuid}};
  for (auto& [member, fam] : families_)
    fam->Remove(&fam->Add(l));
  for (auto& [member, fam] : gauges_)
    fam->Remove(&fam->Add(l));
  for (size_t i = 0; i < histograms_.size(); ++i)
    histograms_[i].second->Remove(
      &histograms_[i].second->Add(l, buckets_[i]));
  offset_lag_->Remove(&offset_lag_->Add({{"uuid", uuid}, {"topic", topic}}));
  for (auto* dir : {"up", "down"})
    scaling_->Remove(&scaling_->Add({{"uuid", uuid}, {"direction", dir}}));
}

std::string metrics::render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

void set_gauge(prometheus::Gauge* g, double v) {
  if (g != nullptr)
    g->Set(v);
}

void observe(prometheus::Histogram* h, double v) {
  if (h != nullptr)
    h->Observe(v);
}

void count(prometheus::Counter* c, double n) {
  if (c != nullptr)
    c->Increment(n);
}

} // namespace kesm::transport
