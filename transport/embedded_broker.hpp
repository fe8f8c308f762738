#pragma once

#include <cstdint>
#include <string>

#include <librdkafka/rdkafka.h>
// after rdkafka.h, as it requires
#include <librdkafka/rdkafka_mock.h>

#include "codecs/expected.hpp"
#include "transport/kafka.hpp"

namespace kesm::transport {

/// An in-process Kafka cluster: librdkafka's mock cluster, speaking the
/// real Kafka protocol on 127.0.0.1 with ports chosen by the OS. Used by
/// `kesm dev-broker`, `kesm demo` and every integration test. It keeps about
/// 5 MB or 100,000 messages a partition and has no TLS/SASL.
///
/// Lifecycle: constructed running; stops when destroyed. Thread-safe as far
/// as librdkafka's mock API is (topic creation and fault injection may be
/// called from any thread).
class embedded_broker {
public:
  /// Starts `brokers` brokers (1..9).
  static codecs::expected<embedded_broker> start(int brokers = 1);

  embedded_broker(embedded_broker&&) noexcept = default;
  embedded_broker& operator=(embedded_broker&&) noexcept = default;

  /// Comma-separated `127.0.0.1:port` list.
  std::string bootstrap() const;

  /// Creates `topic` with `partitions` partitions (replication 1).
  codecs::expected<bool> create_topic(const std::string& topic,
                                      int partitions);

  /// The mock cluster, for fault injection (`rd_kafka_mock_*`).
  rd_kafka_mock_cluster_t* cluster() const noexcept {
    return cluster_.get();
  }

private:
  struct cluster_deleter {
    void operator()(rd_kafka_mock_cluster_t* p) const noexcept {
      rd_kafka_mock_cluster_destroy(p);
    }
  };

  embedded_broker(kafka_ptr owner, rd_kafka_mock_cluster_t* cluster);

  kafka_ptr owner_; // book-keeping handle; outlives the cluster
  std::unique_ptr<rd_kafka_mock_cluster_t, cluster_deleter> cluster_;
};

} // namespace kesm::transport
