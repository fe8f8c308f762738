#pragma once

#include <memory>
#include <string>

#include "codecs/event_writer.hpp"
#include "transport/record_chunk.hpp"

namespace kesm::test {

/// A chunk of `n` records of `topic`/`partition` with offsets from
/// `first`, values of `value_bytes` bytes, no key, one header. Built
/// without librdkafka: the chunk owns plain strings.
inline transport::chunk_ptr make_chunk(const std::string& topic,
                                       int32_t partition, int64_t first,
                                       size_t n, size_t value_bytes = 10) {
  auto c = std::make_shared<transport::record_chunk>();
  c->topic = topic;
  c->partition = partition;
  c->storage.reserve(n);
  c->headers.reserve(n);
  for (size_t i = 0; i < n; ++i)
    c->storage.push_back(std::string(value_bytes, static_cast<char>('a' + i % 26)));
  for (size_t i = 0; i < n; ++i) {
    c->headers.push_back(codecs::header_view{"h", "x", 1});
    codecs::record_view r;
    r.offset = first + static_cast<int64_t>(i);
    r.timestamp = 1700000000000;
    r.value = c->storage[i].data();
    r.value_len = c->storage[i].size();
    r.headers = &c->headers[i];
    r.header_count = 1;
    c->records.push_back(r);
    c->bytes += value_bytes + 1 + transport::record_overhead;
  }
  for (auto& r : c->records) {
    r.headers = &c->headers[static_cast<size_t>(&r - c->records.data())];
    c->costs.push_back(static_cast<uint32_t>(
      codecs::event_writer::record_variable_size(r) + 1));
  }
  return c;
}

} // namespace kesm::test
