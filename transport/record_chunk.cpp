#include "transport/record_chunk.hpp"

#include "codecs/event_writer.hpp"

namespace kesm::transport {

std::shared_ptr<record_chunk> make_chunk(const std::string& topic, int32_t partition,
                     rd_kafka_message_t** msgs, size_t n,
                     std::vector<std::string>* errors) {
  auto chunk = std::make_shared<record_chunk>();
  chunk->topic = topic;
  chunk->partition = partition;
  chunk->messages.reserve(n);
  chunk->records.reserve(n);
  std::vector<std::pair<size_t, size_t>> header_ranges;
  header_ranges.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    message_ptr msg{msgs[i]};
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (errors != nullptr)
        errors->push_back(rd_kafka_message_errstr(msg.get()));
      continue;
    }
    codecs::record_view r;
    r.offset = msg->offset;
    rd_kafka_timestamp_type_t tstype;
    r.timestamp = rd_kafka_message_timestamp(msg.get(), &tstype);
    r.ts_type = tstype == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME
                  ? codecs::timestamp_type::log_append_time
                  : codecs::timestamp_type::create_time;
    r.key = msg->key;
    r.key_len = msg->key_len;
    r.value = msg->payload;
    r.value_len = msg->len;
    size_t first = chunk->headers.size();
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(msg.get(), &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* value;
      size_t size;
      for (size_t idx = 0;
           rd_kafka_header_get_all(hdrs, idx, &name, &value, &size)
           == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++idx) {
        chunk->headers.push_back(codecs::header_view{name, value, size});
        chunk->bytes += size;
      }
    }
    header_ranges.emplace_back(first, chunk->headers.size() - first);
    chunk->bytes += r.key_len + r.value_len + record_overhead;
    chunk->records.push_back(r);
    chunk->next_offset = msg->offset + 1;
    chunk->messages.push_back(std::move(msg));
  }
  // Header views are stable only now that the vector stopped growing.
  chunk->costs.reserve(chunk->records.size());
  for (size_t i = 0; i < chunk->records.size(); ++i) {
    auto& r = chunk->records[i];
    r.header_count = header_ranges[i].second;
    r.headers = r.header_count > 0 ? &chunk->headers[header_ranges[i].first]
                                   : nullptr;
    chunk->costs.push_back(static_cast<uint32_t>(
      codecs::event_writer::record_variable_size(r) + 1));
  }
  return chunk;
}

} // namespace kesm::transport
