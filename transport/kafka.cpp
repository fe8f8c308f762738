#include "transport/kafka.hpp"

namespace kesm::transport {

codecs::expected<conf_ptr> make_conf(const kafka_props& props) {
  conf_ptr conf{rd_kafka_conf_new()};
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof(err))
        != RD_KAFKA_CONF_OK)
      return codecs::error{codecs::errc::invalid_parameter,
                           "Kafka property " + k + "=" + v + ": " + err};
  }
  return conf;
}

codecs::expected<kafka_ptr> make_client(rd_kafka_type_t type, conf_ptr conf) {
  char err[512];
  auto rk = rd_kafka_new(type, conf.get(), err, sizeof(err));
  if (rk == nullptr)
    return codecs::error{codecs::errc::invalid_parameter,
                         std::string("cannot create Kafka client: ") + err};
  conf.release(); // rd_kafka_new took ownership
  return kafka_ptr{rk};
}

codecs::expected<kafka_ptr> make_client(rd_kafka_type_t type,
                                        const kafka_props& props) {
  auto conf = make_conf(props);
  if (!conf)
    return conf.err();
  return make_client(type, std::move(*conf));
}

} // namespace kesm::transport
