#include "transport/offset_inspector.hpp"

namespace kesm::transport {

codecs::expected<offset_inspector>
offset_inspector::connect(const std::string& bootstrap,
                          const std::string& group) {
  auto rk = make_client(RD_KAFKA_CONSUMER,
                        kafka_props{{"bootstrap.servers", bootstrap},
                                    {"group.id", group},
                                    {"enable.auto.commit", "false"},
                                    {"log_level", "3"}});
  if (!rk)
    return rk.err();
  return offset_inspector{std::move(*rk)};
}

codecs::expected<std::vector<partition_offsets>>
offset_inspector::query(const std::string& topic, int timeout_ms) {
  auto fail = [&](const char* what, rd_kafka_resp_err_t err) {
    return codecs::error{codecs::errc::not_found,
                         std::string(what) + " for topic " + topic + ": "
                           + rd_kafka_err2str(err)};
  };
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_.get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(rk_.get(), 0, rkt, &md, timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return fail("metadata request failed", err);
  int count = md->topic_cnt == 1 ? md->topics[0].partition_cnt : 0;
  auto topic_err = md->topic_cnt == 1 ? md->topics[0].err
                                      : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  rd_kafka_metadata_destroy(md);
  if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return fail("no such topic", topic_err);
  std::vector<partition_offsets> out(static_cast<size_t>(count));
  tpl_ptr list{rd_kafka_topic_partition_list_new(count)};
  for (int p = 0; p < count; ++p) {
    auto& po = out[static_cast<size_t>(p)];
    po.partition = p;
    err = rd_kafka_query_watermark_offsets(rk_.get(), topic.c_str(), p,
                                           &po.low, &po.high, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return fail("watermark query failed", err);
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
  }
  err = rd_kafka_committed(rk_.get(), list.get(), timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return fail("committed-offset query failed", err);
  for (int i = 0; i < list->cnt; ++i) {
    auto& e = list->elems[i];
    out[static_cast<size_t>(e.partition)].committed
      = e.offset >= 0 ? e.offset : -1;
  }
  return out;
}

} // namespace kesm::transport
