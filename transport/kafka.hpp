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
using event_ptr = std::unique_ptr<rd_kafka_event_t, kafka_deleter>;

/// Key/value librdkafka properties.
using kafka_props = std::map<std::string, std::string>;

/// Builds a librdkafka configuration; the error names the bad property.
codecs::expected<conf_ptr> make_conf(const kafka_props& props);

/// Creates a client of `type` from `props`.
codecs::expected<kafka_ptr> make_client(rd_kafka_type_t type,
                                        const kafka_props& props);

/// Creates a client from a prepared configuration (callbacks set).
codecs::expected<kafka_ptr> make_client(rd_kafka_type_t type, conf_ptr conf);

/// Destroys `rk` with `rd_kafka_destroy_flags(flags)` on a thread of its
/// own, so no actor waits for librdkafka's teardown (which blocks while
/// any of its messages is still referenced, or a broker does not answer).
/// `keep` is released after the client is gone (e.g. the wake signals its
/// queues call into). Safe from any thread.
void destroy_later(kafka_ptr rk, int flags,
                   std::shared_ptr<void> keep = nullptr);

/// Waits until every `destroy_later` has finished, at most `timeout_ms`;
/// false when some have not (the process may exit anyway: nothing is left
/// to commit by then).
bool wait_destroyed(long timeout_ms);

/// Whether the librdkafka property `name` may hold a secret (its value is
/// never printed): passwords, keys, tokens, secrets, every `sasl.*`.
bool secret_property(const std::string& name);

/// Checks the librdkafka consumer properties a user adds (the config
/// file's `kafka`): refuses those kesm owns (offset store and commit,
/// group, start position, callbacks, plugins), then builds a consumer from
/// them without connecting, so an unknown name, a bad value or a missing
/// key file is found now, not in a retry loop. The error names the
/// property (never a secret's value) and says what to do.
codecs::expected<bool> check_consumer_props(const kafka_props& props);

/// The partition count of `topic`, asked of the cluster with a short-lived
/// client built from `props` (bootstrap and security): blocking, at most
/// `timeout_ms`. An error when the topic is unknown or the cluster does not
/// answer.
codecs::expected<int> topic_partitions(const kafka_props& props,
                                       const std::string& topic,
                                       int timeout_ms);

/// `name=value`, or `name=<redacted>` for a secret property.
std::string describe_property(const std::string& name,
                              const std::string& value);

} // namespace kesm::transport
