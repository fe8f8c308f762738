#pragma once

#include <map>
#include <memory>
#include <string>

#include <librdkafka/rdkafka.h>

#include "codecs/expected.hpp"

namespace kesm::transport {

/// One deleter per librdkafka C type, and a `unique_ptr` alias for each.
struct kafka_deleter {
  void operator()(rd_kafka_t* p) const noexcept {
    rd_kafka_destroy(p);
  }
  void operator()(rd_kafka_conf_t* p) const noexcept {
    rd_kafka_conf_destroy(p);
  }
  void operator()(rd_kafka_topic_partition_list_t* p) const noexcept {
    rd_kafka_topic_partition_list_destroy(p);
  }
  void operator()(rd_kafka_queue_t* p) const noexcept {
    rd_kafka_queue_destroy(p);
  }
  void operator()(rd_kafka_message_t* p) const noexcept {
    rd_kafka_message_destroy(p);
  }
  void operator()(rd_kafka_event_t* p) const noexcept {
    rd_kafka_event_destroy(p);
  }
};

using kafka_ptr = std::unique_ptr<rd_kafka_t, kafka_deleter>;
using conf_ptr = std::unique_ptr<rd_kafka_conf_t, kafka_deleter>;
using tpl_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, kafka_deleter>;
using queue_ptr = std::unique_ptr<rd_kafka_queue_t, kafka_deleter>;
using message_ptr = std::unique_ptr<rd_kafka_message_t, kafka_deleter>;

/// Key/value librdkafka properties.
using kafka_props = std::map<std::string, std::string>;

/// Builds a librdkafka configuration; the error names the bad property.
codecs::expected<conf_ptr> make_conf(const kafka_props& props);

/// Creates a client of `type` from `props`.
codecs::expected<kafka_ptr> make_client(rd_kafka_type_t type,
                                        const kafka_props& props);

/// Creates a client from a prepared configuration (callbacks set).
codecs::expected<kafka_ptr> make_client(rd_kafka_type_t type, conf_ptr conf);

} // namespace kesm::transport
