#include "transport/metrics.hpp"

#include <gtest/gtest.h>

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
