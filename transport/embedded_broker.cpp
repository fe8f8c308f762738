#include "transport/embedded_broker.hpp"

namespace kesm::transport {

embedded_broker::embedded_broker(kafka_ptr owner,
                                 rd_kafka_mock_cluster_t* cluster)
  : owner_(std::move(owner)), cluster_(cluster) {
  // nop
}

codecs::expected<embedded_broker> embedded_broker::start(int brokers) {
  if (brokers < 1 || brokers > 9)
    return codecs::error{codecs::errc::invalid_parameter,
                         "--brokers must be between 1 and 9"};
  auto rk = make_client(RD_KAFKA_PRODUCER, kafka_props{{"log_level", "3"}});
  if (!rk)
    return rk.err();
  auto cluster = rd_kafka_mock_cluster_new(rk->get(), brokers);
  if (cluster == nullptr)
    return codecs::error{codecs::errc::invalid_parameter,
                         "cannot start the embedded broker (no free port on"
                         " 127.0.0.1?)"};
  return embedded_broker{std::move(*rk), cluster};
}

std::string embedded_broker::bootstrap() const {
  return rd_kafka_mock_cluster_bootstraps(cluster_.get());
}

codecs::expected<bool> embedded_broker::create_topic(const std::string& topic,
                                                     int partitions) {
  if (partitions < 1)
    return codecs::error{codecs::errc::invalid_parameter,
                         "a topic needs at least one partition"};
  auto err = rd_kafka_mock_topic_create(cluster_.get(), topic.c_str(), partitions, 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return codecs::error{codecs::errc::invalid_parameter,
                         "cannot create topic " + topic + ": "
                           + rd_kafka_err2str(err)};
  return true;
}

} // namespace kesm::transport
