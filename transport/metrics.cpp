#include "transport/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
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
  auto& r = *registry_;
  polled_ = family(r, "kesm_polled_event_count_total",
                   "PolledEventCount: records read from Kafka");
  invoked_ = family(r, "kesm_invoked_event_count_total",
                    "InvokedEventCount: records sent to the function,"
                    " retries included");
  failed_invoke_ = family(r, "kesm_failed_invoke_event_count_total",
                          "FailedInvokeEventCount: records of failed"
                          " invocations");
  committed_ = family(r, "kesm_committed_event_count_total",
                      "CommittedEventCount: records whose offsets were"
                      " stored for commit");
  invoke_errors_ = family(r, "kesm_invoke_error_count_total",
                          "InvokeErrorCount: failed invocations");
  polling_errors_ = family(r, "kesm_polling_error_count_total",
                           "PollingErrorCount: fetch errors");
}

metrics::~metrics() = default;

mapping_counters metrics::add(const std::string& uuid) {
  prometheus::Labels l{{"uuid", uuid}};
  return mapping_counters{&polled_->Add(l),        &invoked_->Add(l),
                          &failed_invoke_->Add(l), &committed_->Add(l),
                          &invoke_errors_->Add(l), &polling_errors_->Add(l)};
}

void metrics::remove(const std::string& uuid) {
  prometheus::Labels l{{"uuid", uuid}};
  for (auto* f : {polled_, invoked_, failed_invoke_, committed_,
                  invoke_errors_, polling_errors_})
    f->Remove(&f->Add(l));
}

std::string metrics::render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

void count(prometheus::Counter* c, double n) {
  if (c != nullptr)
    c->Increment(n);
}

} // namespace kesm::transport
