#include "transport/metrics.hpp"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

using namespace kesm::transport;

TEST(metrics, renders_every_mapping_counter_with_aws_names) {
  metrics m;
  auto c = m.add("u-1");
  count(c.polled, 5);
  count(c.invoked, 4);
  count(c.failed_invoke, 3);
  count(c.committed, 2);
  count(c.invoke_errors);
  count(c.polling_errors);
  count(c.dropped, 7);
  count(c.dlq_delivered, 8);
  count(c.dlq_errors, 9);
  count(c.filtered_out, 6);
  auto text = m.render();
  for (auto line : {"kesm_polled_event_count_total{uuid=\"u-1\"} 5",
                    "kesm_invoked_event_count_total{uuid=\"u-1\"} 4",
                    "kesm_failed_invoke_event_count_total{uuid=\"u-1\"} 3",
                    "kesm_committed_event_count_total{uuid=\"u-1\"} 2",
                    "kesm_invoke_error_count_total{uuid=\"u-1\"} 1",
                    "kesm_polling_error_count_total{uuid=\"u-1\"} 1",
                    "kesm_dropped_event_count_total{uuid=\"u-1\"} 7",
                    "kesm_on_failure_destination_delivered_event_count_total"
                    "{uuid=\"u-1\"} 8",
                    "kesm_on_failure_destination_delivery_error_count_total"
                    "{uuid=\"u-1\"} 9",
                    "kesm_filtered_out_event_count_total{uuid=\"u-1\"} 6"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  m.remove("u-1");
  EXPECT_EQ(m.render().find("u-1"), std::string::npos);
}

TEST(metrics, renders_the_scaling_gauges_and_drops_them_with_the_mapping) {
  metrics m;
  auto c = m.add("u-2", "orders");
  set_gauge(c.pollers, 3);
  set_gauge(c.provisioned_pollers, 3);
  set_gauge(c.offset_lag, 1200);
  set_gauge(c.max_offset_lag, 700);
  set_gauge(c.sum_offset_lag, 1200);
  count(c.scaled_up, 2);
  count(c.scaled_down);
  count(c.throughput_bytes, 4096);
  set_gauge(m.epu("u-2", "g1"), 0.3);
  auto text = m.render();
  for (auto line :
       {"kesm_pollers{uuid=\"u-2\"} 3", "kesm_provisioned_pollers{uuid=\"u-2\"} 3",
        "kesm_offset_lag{topic=\"orders\",uuid=\"u-2\"} 1200",
        "kesm_max_offset_lag{uuid=\"u-2\"} 700",
        "kesm_sum_offset_lag{uuid=\"u-2\"} 1200",
        "kesm_scaling_events_total{direction=\"up\",uuid=\"u-2\"} 2",
        "kesm_scaling_events_total{direction=\"down\",uuid=\"u-2\"} 1",
        "kesm_event_poller_throughput_in_bytes_total{uuid=\"u-2\"} 4096",
        "kesm_event_poller_unit{group=\"g1\",uuid=\"u-2\"} 0.3"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  m.drop_epu("u-2", "g1");
  m.remove("u-2", "orders");
  EXPECT_EQ(m.render().find("u-2"), std::string::npos) << m.render();
}

TEST(metrics, build_info_names_the_version_and_librdkafka) {
  metrics m;
  auto text = m.render();
  auto at = text.find("kesm_build_info{");
  ASSERT_NE(at, std::string::npos) << text;
  auto line = text.substr(at, text.find('\n', at) - at);
  EXPECT_NE(line.find("version=\""), std::string::npos) << line;
  EXPECT_NE(line.find(std::string("librdkafka=\"") + rd_kafka_version_str()),
            std::string::npos)
    << line;
  EXPECT_EQ(line.substr(line.size() - 2), " 1") << line;
}

TEST(metrics, histograms_and_alerting_counters_come_and_go_with_the_mapping) {
  metrics m;
  auto c = m.add("u-1", "t");
  observe(c.invocation_seconds, 0.02);
  observe(c.batch_records, 100);
  count(c.throttles);
  auto text = m.render();
  for (auto* name :
       {"kesm_invocation_duration_seconds_bucket{uuid=\"u-1\",le=\"0.025\"} 1",
        "kesm_batch_size_records_sum{uuid=\"u-1\"} 100",
        "kesm_batch_size_bytes_count{uuid=\"u-1\"} 0",
        "kesm_record_age_seconds_count{uuid=\"u-1\"} 0",
        "kesm_throttle_count_total{uuid=\"u-1\"} 1",
        "kesm_retry_count_total{uuid=\"u-1\"} 0",
        "kesm_bisect_count_total{uuid=\"u-1\"} 0",
        "kesm_revocation_count_total{uuid=\"u-1\"} 0",
        "kesm_rebalance_count_total{uuid=\"u-1\"} 0"})
    EXPECT_NE(text.find(name), std::string::npos) << name;
  m.remove("u-1", "t");
  EXPECT_EQ(m.render().find("u-1"), std::string::npos);
}
